package dev.kiln.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real JupyterLab (the {@code jupyterlab} wheel's server and front end) shown in headless
 * Chromium, driven over the DevTools protocol from Java ({@link java.net.http.WebSocket}): the way a
 * user opens an executed notebook later. Lab runs with settings of its own in a temp folder (the
 * theme, every cell rendered), with an in-memory notary, so every notebook opens untrusted, and
 * with no kernel allowed (Lab's "Select Kernel" dialog is answered "No Kernel").
 * Every wait is bounded; {@link #close} ends Lab and Chromium with their child processes.
 */
final class LabBrowser implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CALL = Duration.ofSeconds(30);

  private final Process lab;
  private final Process chromium;
  private final String base;
  private final String token;
  private final WebSocket ws;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final Path log;
  private final Path settings;

  private LabBrowser(Process lab, Process chromium, String base, String token, WebSocket ws, Path log, Path settings) {
    this.lab = lab;
    this.chromium = chromium;
    this.base = base;
    this.token = token;
    this.ws = ws;
    this.log = log;
    this.settings = settings;
  }

  /**
   * Starts Lab serving {@code root} with {@code theme} ("JupyterLab Dark", "JupyterLab Light") and
   * Chromium on a {@code width} x {@code height} page; {@code env} adds to Lab's environment
   * (JUPYTER_PATH for a kernelspec).
   */
  static LabBrowser start(String chromiumPath, Path root, Path temp, Map<String, String> env, String theme, int width, int height)
      throws IOException, InterruptedException {
    Path settings = temp.resolve("lab-settings");
    writeTheme(settings, theme);
    // Lab 4 renders only the cells in view by default; the checks need every cell in the DOM.
    write(settings.resolve("@jupyterlab/notebook-extension/tracker.jupyterlab-settings"), "{\"windowingMode\": \"none\"}");
    write(settings.resolve("@jupyterlab/apputils-extension/notification.jupyterlab-settings"),
        "{\"fetchNews\": \"false\", \"checkForUpdates\": false}");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String token = UUID.randomUUID().toString().replace("-", "");
    Path labLog = temp.resolve("jupyterlab.log");
    ProcessBuilder pb = new ProcessBuilder("python3", "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", "--port=" + port,
        "--ServerApp.port_retries=0", "--allow-root", "--IdentityProvider.token=" + token, "--ServerApp.root_dir=" + root,
        "--NotebookNotary.db_file=:memory:", "--LabApp.user_settings_dir=" + settings,
        "--LabApp.workspaces_dir=" + temp.resolve("lab-workspaces"), "--LabApp.news_url=", "--ServerApp.allow_remote_access=False",
        // no kernel may start: opening a notebook only shows its saved outputs, as for a reader
        "--KernelSpecManager.allowed_kernelspecs=kiln-no-kernel")
        .directory(root.toFile()).redirectErrorStream(true).redirectOutput(labLog.toFile());
    pb.environment().putAll(env);
    pb.environment().put("JUPYTER_RUNTIME_DIR", temp.resolve("lab-runtime").toString());
    pb.environment().put("JUPYTER_CONFIG_DIR", temp.resolve("lab-config").toString());
    Process lab = pb.start();
    String base = "http://127.0.0.1:" + port;
    Process chromium = null;
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (true) {
        if (!lab.isAlive()) throw new IOException("jupyter lab exited with " + lab.exitValue() + ":\n" + Files.readString(labLog));
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/status?token=" + token))
              .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) break;
        } catch (IOException e) {
          // not listening yet
        }
        if (System.nanoTime() > deadline) throw new IOException("jupyter lab not ready after 90 s:\n" + Files.readString(labLog));
        Thread.sleep(250);
      }

      Path profile = temp.resolve("lab-chromium-profile");
      Files.createDirectories(profile);
      chromium = new ProcessBuilder(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
          "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=" + profile,
          "--window-size=" + width + "," + height, "about:blank")
          .redirectErrorStream(true).redirectOutput(temp.resolve("lab-chromium.log").toFile()).start();
      Path portFile = profile.resolve("DevToolsActivePort");
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!Files.exists(portFile) || Files.readString(portFile).lines().count() < 2) {
        if (!chromium.isAlive() || System.nanoTime() > deadline) {
          throw new IOException("Chromium gave no DevTools port:\n" + Files.readString(temp.resolve("lab-chromium.log")));
        }
        Thread.sleep(100);
      }
      int devtools = Integer.parseInt(Files.readString(portFile).lines().findFirst().orElseThrow().strip());
      JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + devtools + "/json/list"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body());
      String wsUrl = null;
      for (JsonNode t : targets) if (t.path("type").asText().equals("page")) wsUrl = t.path("webSocketDebuggerUrl").asText();
      if (wsUrl == null) throw new IOException("no page target in " + targets);
      LabBrowser[] self = new LabBrowser[1];
      WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(URI.create(wsUrl), new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
              partial.append(data);
              if (last) {
                String message = partial.toString();
                partial.setLength(0);
                if (self[0] != null) self[0].received(message);
              }
              socket.request(1);
              return null;
            }
          }).get(15, TimeUnit.SECONDS);
      LabBrowser b = new LabBrowser(lab, chromium, base, token, ws, labLog, settings);
      self[0] = b;
      b.call("Page.enable", JSON.createObjectNode());
      b.call("Runtime.enable", JSON.createObjectNode());
      return b;
    } catch (IOException | InterruptedException | RuntimeException e) {
      end(chromium);
      end(lab);
      throw e;
    } catch (Exception e) {
      end(chromium);
      end(lab);
      throw new IOException("could not drive Chromium: " + e, e);
    }
  }

  private void received(String message) {
    try {
      JsonNode m = JSON.readTree(message);
      if (m.has("id")) {
        CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
        if (f != null) f.complete(m);
      }
    } catch (IOException e) {
      // not JSON: nothing waits for it
    }
  }

  /** One DevTools call; its {@code result}, or an IOException with the protocol's error. */
  JsonNode call(String method, ObjectNode params) throws IOException {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> f = new CompletableFuture<>();
    pending.put(id, f);
    ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
    msg.set("params", params);
    ws.sendText(msg.toString(), true);
    JsonNode reply;
    try {
      reply = f.get(CALL.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      pending.remove(id);
      throw new IOException(method + " got no answer in " + CALL.toSeconds() + " s", e);
    }
    if (reply.has("error")) throw new IOException(method + ": " + reply.get("error"));
    return reply.path("result");
  }

  /** Evaluates {@code js} in the page (awaiting a promise) and returns its value as JSON. */
  JsonNode eval(String js) throws IOException {
    JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", js).put("returnByValue", true)
        .put("awaitPromise", true));
    if (r.has("exceptionDetails")) throw new IOException("page script failed: " + r.get("exceptionDetails"));
    return r.path("result").path("value");
  }

  /**
   * Opens {@code notebook} (relative to Lab's root) and waits, at most {@code seconds}, until the
   * notebook shows at least one output and its number of outputs stops changing.
   */
  void open(String notebook, int seconds) throws IOException, InterruptedException {
    call("Page.navigate", JSON.createObjectNode().put("url", base + "/lab/tree/" + notebook + "?reset&token=" + token));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    int last = -1;
    int stable = 0;
    while (true) {
      int n;
      try {
        // answer "Select Kernel" with "No Kernel" (or whatever dismisses the dialog), then count outputs
        n = eval("(() => { const d = document.querySelector('.jp-Dialog'); if (d) { const b = [...d.querySelectorAll('button')];"
            + " (b.find(x => /no kernel/i.test(x.textContent)) || d.querySelector('button.jp-mod-reject') || b[0])?.click(); }"
            + " return document.querySelectorAll('.jp-Notebook .jp-OutputArea-output').length; })()").asInt();
      } catch (IOException e) {
        n = -1; // navigating
      }
      boolean dialog;
      try {
        dialog = eval("!!document.querySelector('.jp-Dialog')").asBoolean();
      } catch (IOException e) {
        dialog = true;
      }
      stable = n > 0 && n == last && !dialog ? stable + 1 : 0;
      last = n;
      if (stable >= 3) return;
      if (System.nanoTime() > deadline) {
        throw new IOException(notebook + ": no stable outputs after " + seconds + " s (" + n + " outputs); Lab log:\n"
            + tail(Files.readString(log)));
      }
      Thread.sleep(500);
    }
  }

  /** Opens a local HTML file (nbconvert's copy) and waits, at most {@code seconds}, until it has loaded. */
  void openFile(Path html, int seconds) throws IOException, InterruptedException {
    call("Page.navigate", JSON.createObjectNode().put("url", html.toUri().toString()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      try {
        if (eval("document.readyState === 'complete' && document.querySelectorAll('.jp-OutputArea-output').length > 0").asBoolean()) return;
      } catch (IOException e) {
        // navigating
      }
      if (System.nanoTime() > deadline) throw new IOException(html + " not loaded after " + seconds + " s");
      Thread.sleep(250);
    }
  }

  /** A PNG of the page as it is now. */
  byte[] screenshot() throws IOException {
    JsonNode r = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
    return Base64.getDecoder().decode(r.path("data").asText());
  }

  @Override public void close() {
    try {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the browser ends below anyway
    }
    end(chromium);
    end(lab);
  }

  private static void end(Process p) {
    if (p == null) return;
    List<ProcessHandle> children = new ArrayList<>(p.descendants().toList());
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    children.forEach(ProcessHandle::destroyForcibly);
  }

  /** Lab reads its settings on each page load: the next {@link #open} shows {@code theme}. */
  void theme(String theme) throws IOException {
    writeTheme(settings, theme);
  }

  private static void writeTheme(Path settings, String theme) throws IOException {
    write(settings.resolve("@jupyterlab/apputils-extension/themes.jupyterlab-settings"), "{\"theme\": \"" + theme + "\"}");
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  private static String tail(String s) {
    List<String> lines = s.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }
}
