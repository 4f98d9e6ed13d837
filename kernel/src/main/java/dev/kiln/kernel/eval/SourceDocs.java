package dev.kiln.kernel.eval;

import com.sun.source.doctree.DocCommentTree;
import com.sun.source.doctree.DocTree;
import com.sun.source.doctree.LinkTree;
import com.sun.source.doctree.LiteralTree;
import com.sun.source.doctree.TextTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.DocTrees;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.lang.model.element.Modifier;
import javax.tools.JavaCompiler;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

/**
 * Javadoc for the Kiln API without a javadoc jar: the kernel jar carries the API's sources under
 * {@code kiln-sources/} and this class parses one file when asked (javac's parser only; about
 * 10 ms a file once javac is warm) to find a member's doc comment, its first sentence and
 * parameter names. For anything else (the JDK, user jars) only JShell's signature is known.
 */
final class SourceDocs {
  private static final String ROOT = "kiln-sources/";

  /** A parsed class: its doc and its public members' headers and docs. */
  record ClassDoc(String name, String doc, List<MemberDoc> members) {}

  record MemberDoc(String name, String header, int arity, List<String> paramTypes, String doc) {}

  private final Map<String, Optional<ClassDoc>> cache = new ConcurrentHashMap<>();
  private final Function<String, String> simpleToQualified;

  /** {@code simpleToQualified} maps a simple class name as a cell sees it to its qualified name. */
  SourceDocs(Function<String, String> simpleToQualified) {
    this.simpleToQualified = simpleToQualified;
  }

  /**
   * Text for one JShell signature: the signature, then the first sentence of its javadoc (all of
   * it when {@code detail}); for a class, also its public members.
   */
  String describe(String signature, String javadoc, boolean detail) {
    StringBuilder sb = new StringBuilder(signature);
    int paren = signature.indexOf('(');
    int colon = signature.indexOf(':');
    if (paren < 0 && colon > 0) {
      // A variable: "name:java.lang.StringBuilder".
      String type = signature.substring(colon + 1).strip();
      return signature.substring(0, colon).strip() + " : " + type
          + describeType(type, detail).map(t -> "\n\n" + t).orElse("");
    }
    if (paren < 0) {
      // A type: "dev.kiln.api.Kiln".
      Optional<ClassDoc> cls = classDoc(signature.strip());
      if (cls.isPresent()) {
        appendDoc(sb, cls.get().doc(), detail);
        appendMembers(sb, cls.get(), detail);
      } else if (javadoc != null) {
        appendDoc(sb, javadoc, detail);
      }
      return sb.toString();
    }
    // A method or constructor: "Model Kiln.load(String path)" or "Kiln.Foo(int a)".
    String head = signature.substring(0, paren);
    int space = head.lastIndexOf(' ');
    String owned = head.substring(space + 1);
    int dot = owned.lastIndexOf('.');
    String owner = dot < 0 ? owned : owned.substring(0, dot);
    String member = dot < 0 ? owned : owned.substring(dot + 1);
    List<String> params = paramTypes(signature.substring(paren + 1, signature.lastIndexOf(')')));
    Optional<ClassDoc> cls = classDoc(owner);
    Optional<MemberDoc> m = cls.flatMap(c -> findMember(c, member, params));
    String doc = m.map(MemberDoc::doc).orElse(javadoc);
    appendDoc(sb, doc, detail);
    return sb.toString();
  }

  /** For a variable's type: the class's first sentence and its public members. */
  Optional<String> describeType(String type, boolean detail) {
    String raw = type.contains("<") ? type.substring(0, type.indexOf('<')) : type;
    return classDoc(raw).map(c -> {
      StringBuilder sb = new StringBuilder(c.name());
      appendDoc(sb, c.doc(), detail);
      appendMembers(sb, c, detail);
      return sb.toString();
    });
  }

  private static void appendDoc(StringBuilder sb, String doc, boolean detail) {
    if (doc == null || doc.isBlank()) return;
    sb.append("\n    ").append((detail ? doc : firstSentence(doc)).strip().replace("\n", "\n    "));
  }

  private static void appendMembers(StringBuilder sb, ClassDoc c, boolean detail) {
    if (c.members().isEmpty()) return;
    sb.append("\n\nPublic members:");
    for (MemberDoc m : c.members()) {
      sb.append("\n  ").append(m.header());
      if (m.doc() != null && !m.doc().isBlank()) sb.append("\n      ").append(firstSentence(m.doc()).strip());
    }
  }

  private static Optional<MemberDoc> findMember(ClassDoc c, String name, List<String> params) {
    MemberDoc byArity = null;
    for (MemberDoc m : c.members()) {
      if (!m.name().equals(name)) continue;
      if (m.paramTypes().equals(params)) return Optional.of(m);
      if (m.arity() == params.size() && byArity == null) byArity = m;
    }
    return Optional.ofNullable(byArity);
  }

  /** "java.nio.file.Path path, int n" to ["Path", "int"]: simple type names, as sources write them. */
  static List<String> paramTypes(String params) {
    List<String> types = new ArrayList<>();
    if (params.isBlank()) return types;
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= params.length(); i++) {
      char c = i < params.length() ? params.charAt(i) : ',';
      if (c == '<') depth++;
      else if (c == '>') depth--;
      else if (c == ',' && depth == 0) {
        String p = params.substring(start, i).strip();
        int sp = p.lastIndexOf(' ');
        String t = sp < 0 ? p : p.substring(0, sp);
        types.add(simpleType(t));
        start = i + 1;
      }
    }
    return types;
  }

  private static String simpleType(String t) {
    String base = t.contains("<") ? t.substring(0, t.indexOf('<')) : t;
    int dot = base.lastIndexOf('.');
    return (dot < 0 ? base : base.substring(dot + 1)).replace("...", "[]");
  }

  static String firstSentence(String doc) {
    String flat = doc.strip();
    int para = flat.indexOf("\n\n");
    if (para > 0) flat = flat.substring(0, para);
    for (int i = 0; i < flat.length(); i++) {
      char c = flat.charAt(i);
      if (c == '.' && (i + 1 == flat.length() || Character.isWhitespace(flat.charAt(i + 1)))) {
        return flat.substring(0, i + 1).replaceAll("\\s+", " ");
      }
    }
    return flat.replaceAll("\\s+", " ");
  }

  Optional<ClassDoc> classDoc(String name) {
    String qualified = name.contains(".") && Character.isLowerCase(name.charAt(0)) ? name : simpleToQualified.apply(name);
    if (qualified == null) return Optional.empty();
    return cache.computeIfAbsent(qualified, this::load);
  }

  private Optional<ClassDoc> load(String qualified) {
    // "dev.kiln.api.Build.Options": the file is the first capitalised segment's, the class the last.
    String[] parts = qualified.split("\\.");
    int top = 0;
    while (top < parts.length && !Character.isUpperCase(parts[top].charAt(0))) top++;
    if (top == parts.length) return Optional.empty();
    String resource = ROOT + String.join("/", java.util.Arrays.copyOfRange(parts, 0, top + 1)) + ".java";
    try (InputStream in = SourceDocs.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) return Optional.empty();
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), parts[parts.length - 1], qualified);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static String simpleOf(String qualified) {
    int dot = qualified.lastIndexOf('.');
    return dot < 0 ? qualified : qualified.substring(dot + 1);
  }

  private static Optional<ClassDoc> parse(String text, String className, String qualified) throws IOException {
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    if (compiler == null) return Optional.empty();
    SimpleJavaFileObject file = new SimpleJavaFileObject(URI.create("string:///" + className + ".java"),
        javax.tools.JavaFileObject.Kind.SOURCE) {
      @Override public CharSequence getCharContent(boolean ignoreEncodingErrors) { return text; }
    };
    JavacTask task = (JavacTask) compiler.getTask(null, null, d -> { }, List.of("-proc:none"), null, List.of(file));
    DocTrees docTrees = DocTrees.instance(task);
    ClassDoc[] found = {null};
    for (CompilationUnitTree unit : task.parse()) {
      new TreePathScanner<Void, Void>() {
        @Override public Void visitClass(ClassTree node, Void unused) {
          if (found[0] == null && node.getSimpleName().contentEquals(className)) {
            TreePath classPath = getCurrentPath();
            List<MemberDoc> members = new ArrayList<>();
            boolean isInterface = node.getKind() == Tree.Kind.INTERFACE;
            for (Tree t : node.getMembers()) {
              if (!(t instanceof MethodTree m)) continue;
              boolean isPublic = m.getModifiers().getFlags().contains(Modifier.PUBLIC) || isInterface;
              if (!isPublic) continue;
              String name = m.getName().contentEquals("<init>") ? className : m.getName().toString();
              List<String> types = new ArrayList<>();
              StringBuilder params = new StringBuilder();
              for (VariableTree p : m.getParameters()) {
                if (params.length() > 0) params.append(", ");
                params.append(p.getType()).append(' ').append(p.getName());
                types.add(simpleType(p.getType().toString()));
              }
              boolean isStatic = m.getModifiers().getFlags().contains(Modifier.STATIC);
              String header = (isStatic ? "static " : "") + (m.getReturnType() == null ? "" : m.getReturnType() + " ")
                  + name + "(" + params + ")";
              String doc = text(docTrees.getDocCommentTree(new TreePath(classPath, m)));
              members.add(new MemberDoc(name, header, m.getParameters().size(), types, doc));
            }
            found[0] = new ClassDoc(qualified, text(docTrees.getDocCommentTree(classPath)), members);
            return null;
          }
          return super.visitClass(node, unused);
        }
      }.scan(unit, null);
    }
    return Optional.ofNullable(found[0]);
  }

  /** A doc comment's body as plain text: {@code x} and {@link X} become x and X; block tags dropped. */
  private static String text(DocCommentTree doc) {
    if (doc == null) return null;
    StringBuilder sb = new StringBuilder();
    for (DocTree t : doc.getFullBody()) {
      if (t instanceof TextTree tt) sb.append(tt.getBody());
      else if (t instanceof LiteralTree lt) sb.append(lt.getBody().getBody());
      else if (t instanceof LinkTree lk) {
        if (!lk.getLabel().isEmpty()) lk.getLabel().forEach(l -> sb.append(l.toString()));
        else sb.append(lk.getReference().getSignature().replace('#', '.'));
      } else if (t.getKind() == DocTree.Kind.START_ELEMENT || t.getKind() == DocTree.Kind.END_ELEMENT) {
        String tag = t.toString().toLowerCase(java.util.Locale.ROOT);
        if (tag.startsWith("<p") || tag.startsWith("<li") || tag.startsWith("<br")) sb.append("\n\n");
      } else {
        sb.append(t);
      }
    }
    return sb.toString().replaceAll("[ \\t]+", " ").replaceAll("\\n[ \\t]*", "\n").strip();
  }
}
