package dev.kiln;

import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hybrid EMBEDDING_LOOKUP fixtures (resources/ops-movement/embedding_lookup_hybrid_*, made by
 * make_ops_movement.py: an int8 table read into float32 rows, one scale or one per row) alone, the same check as
 * {@link ModelConformanceTest} (which also runs them), against TF 2.21 BUILTIN_REF.
 */
class EmbeddingLookupHybridTest {
  static Stream<Case> hybrid() {
    return ReferenceModels.opFixtures().stream()
        .filter(c -> c.folder().getFileName().toString().startsWith("embedding_lookup_hybrid"));
  }

  @Test
  void theFixturesExist() {
    Assertions.assertEquals(2, hybrid().count(), "ops-movement/embedding_lookup_hybrid_* fixtures missing");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hybrid")
  void matchesTflite(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }
}
