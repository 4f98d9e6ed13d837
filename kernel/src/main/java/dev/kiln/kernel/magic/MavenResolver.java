package dev.kiln.kernel.magic;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.aether.ConfigurationProperties;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.supplier.SessionBuilderSupplier;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;

/**
 * Resolves {@code group:artifact:version} coordinates with their runtime dependencies, the way
 * Maven does (nearest wins, dependency management, exclusions), through Maven's own resolver.
 * Downloads go to the local repository ({@code -Dmaven.repo.local}, default
 * {@code ~/.m2/repository}), so a second kernel finds them there without the network.
 * Every network wait is bounded: 10 s to connect, 60 s per request.
 */
public final class MavenResolver {
  public static final String CENTRAL = "https://repo.maven.apache.org/maven2/";
  static final int CONNECT_TIMEOUT_MS = 10_000;
  static final int REQUEST_TIMEOUT_MS = 60_000;

  /** One resolved jar. */
  public record Resolved(String groupId, String artifactId, String version, Path file) {
    public String coordinates() { return groupId + ":" + artifactId + ":" + version; }
  }

  private final Path localRepository;
  private final Map<String, String> repositories = new LinkedHashMap<>();
  private RepositorySystem system;

  public MavenResolver(Path localRepository) {
    this.localRepository = localRepository;
    repositories.put("central", CENTRAL);
  }

  public static Path defaultLocalRepository() {
    String configured = System.getProperty("maven.repo.local");
    return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".m2", "repository");
  }

  public Path localRepository() { return localRepository; }

  public void addRepository(String id, String url) { repositories.put(id, url.endsWith("/") ? url : url + "/"); }

  public Map<String, String> repositories() { return Map.copyOf(repositories); }

  /**
   * The jars of {@code coordinates} ({@code g:a:v}, {@code g:a:ext:v} or {@code g:a:ext:classifier:v})
   * and their compile and runtime dependencies, resolved together so versions agree.
   */
  public synchronized List<Resolved> resolve(List<String> coordinates) throws DependencyResolutionException {
    if (system == null) system = new RepositorySystemSupplier().get();
    List<RemoteRepository> remotes = new ArrayList<>();
    repositories.forEach((id, url) -> remotes.add(new RemoteRepository.Builder(id, "default", url).build()));
    try (RepositorySystemSession.CloseableSession session = new SessionBuilderSupplier(system).get()
        .withLocalRepositoryBaseDirectories(localRepository)
        .setSystemProperties(System.getProperties())
        .setConfigProperty(ConfigurationProperties.CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS)
        .setConfigProperty(ConfigurationProperties.REQUEST_TIMEOUT, REQUEST_TIMEOUT_MS)
        .build()) {
      CollectRequest collect = new CollectRequest();
      for (String c : coordinates) collect.addDependency(new Dependency(new DefaultArtifact(c), JavaScopes.RUNTIME));
      collect.setRepositories(remotes);
      DependencyRequest request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
      List<Resolved> jars = new ArrayList<>();
      for (ArtifactResult r : system.resolveDependencies(session, request).getArtifactResults()) {
        Artifact a = r.getArtifact();
        if (a != null && a.getPath() != null) {
          jars.add(new Resolved(a.getGroupId(), a.getArtifactId(), a.getVersion(), a.getPath()));
        }
      }
      return jars;
    }
  }
}
