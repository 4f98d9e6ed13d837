package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * LSTM, GRU and RNN (issue 9 item 5, onnx-more), unrolled over their static sequence length into existing
 * float kernels: one FULLY_CONNECTED for the input projection of every step ({@code X W^T + Wb}, rows
 * [t*B, (t+1)*B) per step), then per step FULLY_CONNECTED of the previous hidden state by R, STRIDED_SLICE
 * of the gates, LOGISTIC/TANH/RELU, MUL and ADD, exactly the equations of the ONNX operator (forward,
 * reverse and bidirectional; initial states given or zero, a fresh start on every run as ONNX defines; LSTM
 * peepholes; GRU both linear_before_reset forms; clip; layout 0 and 1; every ONNX activation function; input_forget;
 * sequence_lens). Y stacks the steps with CONCATENATION.
 * W, R, B and P may be computed at run time: their per-direction slices (STRIDED_SLICE) and Wb + Rb (ADD) are then
 * made on the device once per run, and the FULLY_CONNECTEDs read them as tensors.
 * TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM is not used: its state lives in variables that carry over from one
 * run to the next, which an ONNX LSTM's does not.
 */
final class RnnOps {
  private RnnOps() {}

  private static final Options PLAIN = new Options.Elementwise(Activation.NONE);

  private enum Kind {
    LSTM(4, List.of("Sigmoid", "Tanh", "Tanh")), GRU(3, List.of("Sigmoid", "Tanh")), RNN(1, List.of("Tanh"));

    final int gates;
    final List<String> activations;

    Kind(int gates, List<String> activations) {
      this.gates = gates;
      this.activations = activations;
    }
  }

  static void lower(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Kind kind = Kind.valueOf(n.opType());
    Attrs a = l.attrs(n);
    Value x = l.input(n, 0, "X");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    x = l.floatValue(x);
    NnOps.requireFloat(l, n, x);
    long layout = a.i("layout", 0);
    if (layout != 0 && layout != 1) throw l.error(n, "has layout " + layout + "; ONNX allows 0 (sequence first) and 1 (batch first)");
    boolean batchFirst = layout == 1;
    if (x.rank() != 3) {
      throw l.error(n, "has X of shape " + GraphLowering.shape(x.shape) + "; it needs "
          + (batchFirst ? "[batch, seq_length, input_size]" : "[seq_length, batch, input_size]"));
    }
    // layout 1 swaps the first two axes of X, initial_h, initial_c, Y_h and Y_c, and puts Y's batch axis first
    if (batchFirst) x = ShapeOps.permute(l, x, SWAP, x.name + "/sequence_first");
    String direction = a.s("direction", "forward");
    int dirs = direction.equals("bidirectional") ? 2 : 1;
    if (!direction.equals("forward") && !direction.equals("reverse") && dirs == 1) {
      throw l.error(n, "has direction " + direction + "; ONNX allows forward, reverse and bidirectional");
    }
    int steps = x.shape[0];
    int batch = x.shape[1];
    int inSize = x.shape[2];
    Value wv = weight(l, n, 1, "W");
    Value rv = weight(l, n, 2, "R");
    Value bv = n.input(3) == null ? null : weight(l, n, 3, "B");
    Value pv = kind == Kind.LSTM && n.input(7) != null ? weight(l, n, 7, "P") : null;
    int g = kind.gates;
    int hidden = rv.rank() == 3 ? rv.shape[2] : -1;
    if (a.has("hidden_size")) hidden = a.int32("hidden_size", hidden);
    if (!Arrays.equals(wv.shape, new int[] {dirs, g * hidden, inSize}) || !Arrays.equals(rv.shape, new int[] {dirs, g * hidden, hidden})) {
      throw l.error(n, "has W " + GraphLowering.shape(wv.shape) + " and R " + GraphLowering.shape(rv.shape) + "; expected ["
          + dirs + ", " + g + "*hidden, " + inSize + "] and [" + dirs + ", " + g + "*hidden, hidden]");
    }
    if (bv != null && bv.elements() != (long) dirs * 2 * g * hidden) {
      throw l.error(n, "has " + bv.elements() + " bias values; expected " + dirs * 2 * g * hidden);
    }
    // W, R, B and P may be computed at run time (the node suite feeds them as inputs); constants are sliced and added now
    boolean constant = wv.isConstant() && rv.isConstant() && (bv == null || bv.isConstant());
    Constant w = constant ? wv.constant : null;
    Constant r = constant ? rv.constant : null;
    float[] bias = bv == null ? new float[dirs * 2 * g * hidden] : bv.isConstant() ? bv.constant.floats() : null;
    Value lens = n.input(4) == null ? null : l.input(n, 4, "sequence_lens");
    if (lens != null) {
      if (lens.elements() != batch) throw l.error(n, "has " + lens.elements() + " sequence_lens for a batch of " + batch);
      if (lens.isConstant()) {
        long[] lv = lens.constant.longs();
        for (long v : lv) {
          if (v < 1 || v > steps) throw l.error(n, "has sequence_lens " + Arrays.toString(lv) + "; each must be 1 to seq_length " + steps);
        }
        if (Arrays.stream(lv).allMatch(v -> v == steps)) lens = null;
      } else if (lens.dtype != DType.INT32 && lens.dtype != DType.INT64) {
        throw l.error(n, "has sequence_lens of type " + lens.dtype + "; ONNX gives them as int32");
      } else {
        lens = lens.reshaped(lens.name + "/column", new int[] {batch, 1});
      }
    }
    Value h0 = n.input(5) == null ? null : l.floatValue(l.input(n, 5, "initial_h"));
    Value c0 = kind == Kind.LSTM && n.input(6) != null ? l.floatValue(l.input(n, 6, "initial_c")) : null;
    if (batchFirst && h0 != null) h0 = ShapeOps.permute(l, h0, SWAP, h0.name + "/direction_first");
    if (batchFirst && c0 != null) c0 = ShapeOps.permute(l, c0, SWAP, c0.name + "/direction_first");
    if (pv != null && pv.elements() != (long) dirs * 3 * hidden) {
      throw l.error(n, "has " + pv.elements() + " peephole values; expected " + dirs * 3 * hidden);
    }
    Value peep = pv == null ? null : pv.reshaped(pv.name + "/rows", new int[] {dirs, 3 * hidden});
    List<Act> acts = activations(l, n, a, kind, dirs);
    float clip = a.f("clip", Float.NaN);
    boolean inputForget = kind == Kind.LSTM && a.i("input_forget", 0) != 0;
    boolean lbr = kind == Kind.GRU && a.i("linear_before_reset", 0) != 0;
    String base = GraphLowering.output(n, 0) != null ? GraphLowering.output(n, 0) : n.label();
    Value[][] ys = new Value[steps][dirs];
    Value[] lastH = new Value[dirs];
    Value[] lastC = new Value[dirs];
    float[] wf = constant ? w.floats() : null;
    float[] rf = constant ? r.floats() : null;
    // one value for both directions, so X is laid out (transposed, with layout 1) once
    Value xs = x.reshaped(x.name + "/rows", new int[] {steps * batch, inSize});
    for (int d = 0; d < dirs; d++) {
      boolean reverse = direction.equals("reverse") || d == 1;
      String dn = base + "/" + (reverse ? "reverse" : "forward");
      int gh = g * hidden;
      Value xw;
      TensorRef rAll;
      TensorRef rZr = null;
      TensorRef rH = null;
      TensorRef bH = null;
      Value rbh = null;
      if (constant) {
        // the input projection of every step at once: [steps*batch, g*hidden]
        float[] xb = Arrays.copyOfRange(bias, d * 2 * gh, d * 2 * gh + gh);
        float[] rb = Arrays.copyOfRange(bias, d * 2 * gh + gh, d * 2 * gh + 2 * gh);
        boolean rbIntoX = !(kind == Kind.GRU);  // GRU keeps Rb_h apart: it is multiplied by r with linear_before_reset
        if (rbIntoX) for (int j = 0; j < gh; j++) xb[j] += rb[j];
        else for (int j = 0; j < 2 * hidden; j++) xb[j] += rb[j];
        xw = dense(l, n, xs, Arrays.copyOfRange(wf, d * gh * inSize, (d + 1) * gh * inSize), gh, inSize, xb, dn + "/input_projection");
        Constant rd = Constant.ofFloats(new int[] {gh, hidden}, Arrays.copyOfRange(rf, d * gh * hidden, (d + 1) * gh * hidden));
        // every step reads the same weight and bias tensors (made once per direction, not per step)
        rAll = l.constantTensor(dn + "/R", rd, Quantization.NONE);
        if (kind == Kind.GRU) {
          rZr = l.constantTensor(dn + "/R_zr",
              Constant.ofFloats(new int[] {2 * hidden, hidden}, Arrays.copyOfRange(rd.floats(), 0, 2 * hidden * hidden)), Quantization.NONE);
          rH = l.constantTensor(dn + "/R_h",
              Constant.ofFloats(new int[] {hidden, hidden}, Arrays.copyOfRange(rd.floats(), 2 * hidden * hidden, 3 * hidden * hidden)),
              Quantization.NONE);
          bH = l.constantTensor(dn + "/Rb_h", Constant.ofFloats(new int[] {hidden}, Arrays.copyOfRange(rb, 2 * hidden, 3 * hidden)),
              Quantization.NONE);
          rbh = vec(rb, 2 * hidden, hidden, dn + "/Rb_h_row");
        }
      } else {
        // the same terms computed on the device, once per run: slices of W, R and B, and Wb + Rb (GRU: Rb_h kept apart)
        Value wd = slice(l, n, wv, 0, d, 1, dn + "/W", new int[] {gh, inSize});
        Value rd = slice(l, n, rv, 0, d, 1, dn + "/R", new int[] {gh, hidden});
        Value xb = null;
        if (bv == null) {
          if (kind == Kind.GRU) rbh = Value.constant(dn + "/Rb_h_row", Constant.ofFloats(new int[] {hidden}, new float[hidden]));
        } else if (bv.isConstant()) {
          // a constant B (with W or R computed at run time) is still summed now
          float[] xbf = Arrays.copyOfRange(bias, d * 2 * gh, d * 2 * gh + gh);
          float[] rbf = Arrays.copyOfRange(bias, d * 2 * gh + gh, d * 2 * gh + 2 * gh);
          for (int j = 0; j < (kind == Kind.GRU ? 2 * hidden : gh); j++) xbf[j] += rbf[j];
          xb = Value.constant(dn + "/input_bias", Constant.ofFloats(new int[] {gh}, xbf));
          if (kind == Kind.GRU) {
            rbh = vec(rbf, 2 * hidden, hidden, dn + "/Rb_h_row");
            bH = l.layout(rbh, null);
          }
        } else {
          Value bd = slice(l, n, bv.reshaped(bv.name + "/rows", new int[] {dirs, 2 * gh}), 0, d, 1, dn + "/B", new int[] {2 * gh});
          Value rb = slice(l, n, bd, 0, gh, gh, dn + "/Rb", new int[] {gh});
          Value wb = slice(l, n, bd, 0, 0, gh, dn + "/Wb", new int[] {gh});
          if (kind == Kind.GRU) {
            float[] mask = new float[gh];
            Arrays.fill(mask, 0, 2 * hidden, 1f);
            rb = mul(l, n, rb, Value.constant(dn + "/Rb_zr_mask", Constant.ofFloats(new int[] {gh}, mask)), dn + "/Rb_zr");
            rbh = slice(l, n, bd, 0, gh + 2 * hidden, hidden, dn + "/Rb_h_row", new int[] {hidden});
            bH = l.layout(rbh, null);
          }
          xb = add(l, n, wb, rb, dn + "/input_bias");
        }
        xw = dense(l, n, xs, l.layout(wd, null), xb == null ? null : l.layout(xb, null), dn + "/input_projection");
        rAll = l.layout(rd, null);
        if (kind == Kind.GRU) {
          rZr = l.layout(slice(l, n, rd, 0, 0, 2 * hidden, dn + "/R_zr", new int[] {2 * hidden, hidden}), null);
          rH = l.layout(slice(l, n, rd, 0, 2 * hidden, hidden, dn + "/R_h", new int[] {hidden, hidden}), null);
        }
      }
      Value pd = peep == null ? null : slice(l, n, peep, 0, d, 1, dn + "/P", new int[] {3 * hidden});
      Value pi = peep == null ? null : slice(l, n, pd, 0, 0, hidden, dn + "/P_i", new int[] {hidden});
      Value po = peep == null ? null : slice(l, n, pd, 0, hidden, hidden, dn + "/P_o", new int[] {hidden});
      Value pf = peep == null ? null : slice(l, n, pd, 0, 2 * hidden, hidden, dn + "/P_f", new int[] {hidden});
      Value h = h0 == null ? null : slice(l, n, h0, 0, d, 1, dn + "/h0", new int[] {batch, hidden});
      Value c = c0 == null ? null : slice(l, n, c0, 0, d, 1, dn + "/c0", new int[] {batch, hidden});
      int off = d * kind.activations.size();
      for (int k = 0; k < steps; k++) {
        int t = reverse ? steps - 1 - k : k;
        String sn = dn + "/t" + t;
        Value xt = slice(l, n, xw, 0, t * batch, batch, sn + "/x", new int[] {batch, gh});
        Value hPrev = h;
        Value cPrev = c;
        switch (kind) {
          case RNN -> {
            Value s = h == null ? xt : add(l, n, xt, dense(l, n, h, rAll, null, sn + "/hr"), sn + "/sum");
            h = act(l, n, acts.get(off), clipped(l, n, s, clip, sn), sn + "/h", a, off);
          }
          case LSTM -> {
            Value s = h == null ? xt : add(l, n, xt, dense(l, n, h, rAll, null, sn + "/hr"), sn + "/gates");
            // clip bounds each gate's whole input, its peephole term included (ONNX's equations, onnxruntime), so with
            // peepholes the i, f and o gates are clipped after adding it
            if (peep == null) s = clipped(l, n, s, clip, sn);
            Value gi = gate(l, n, s, 0, hidden, sn + "/i_in");
            Value go = gate(l, n, s, 1, hidden, sn + "/o_in");
            Value gf = gate(l, n, s, 2, hidden, sn + "/f_in");
            Value gc = gate(l, n, s, 3, hidden, sn + "/c_in");
            if (peep != null && c != null) {
              gi = add(l, n, gi, mul(l, n, c, pi, sn + "/pi_c"), sn + "/i_peep");
              gf = add(l, n, gf, mul(l, n, c, pf, sn + "/pf_c"), sn + "/f_peep");
            }
            if (peep != null) {
              gi = clipped(l, n, gi, clip, sn + "/i");
              gf = clipped(l, n, gf, clip, sn + "/f");
              gc = clipped(l, n, gc, clip, sn + "/c");
            }
            Value i = act(l, n, acts.get(off), gi, sn + "/i", a, off);
            // input_forget couples the gates as onnxruntime does: f = 1 - i (after i's activation, and without f's peephole)
            Value f = inputForget ? EltwiseOps.emit(l, n, OpType.SUB, PLAIN, DType.FLOAT32, sn + "/f", false, one(sn), i)
                : act(l, n, acts.get(off), gf, sn + "/f", a, off);
            Value cc = act(l, n, acts.get(off + 1), gc, sn + "/c_candidate", a, off + 1);
            Value ic = mul(l, n, i, cc, sn + "/i_c");
            c = c == null ? ic : add(l, n, mul(l, n, f, c, sn + "/f_c"), ic, sn + "/c");
            if (peep != null) go = clipped(l, n, add(l, n, go, mul(l, n, c, po, sn + "/po_c"), sn + "/o_peep"), clip, sn + "/o");
            Value o = act(l, n, acts.get(off), go, sn + "/o", a, off);
            h = mul(l, n, o, act(l, n, acts.get(off + 2), c, sn + "/c_act", a, off + 2), sn + "/h");
          }
          case GRU -> {
            Value hr = h == null || !lbr ? null : dense(l, n, h, rH, bH, sn + "/hr");
            Value s2 = h == null ? gateRange(l, n, xt, 0, 2 * hidden, sn + "/zr_in")
                : add(l, n, gateRange(l, n, xt, 0, 2 * hidden, sn + "/zr_x"), dense(l, n, h, rZr, null, sn + "/zr_h"), sn + "/zr_in");
            s2 = clipped(l, n, s2, clip, sn + "/zr");
            Value z = act(l, n, acts.get(off), gate(l, n, s2, 0, hidden, sn + "/z_in"), sn + "/z", a, off);
            Value rr = act(l, n, acts.get(off), gate(l, n, s2, 1, hidden, sn + "/r_in"), sn + "/r", a, off);
            Value xh = gate(l, n, xt, 2, hidden, sn + "/h_x");
            Value hh;
            if (h == null) {
              hh = lbr ? mul(l, n, rr, rbh, sn + "/h_h") : rbh;
            } else if (lbr) {
              hh = mul(l, n, rr, hr, sn + "/h_h");
            } else {
              Value rh = mul(l, n, rr, h, sn + "/r_h");
              hh = dense(l, n, rh, rH, bH, sn + "/h_h");
            }
            Value cand = act(l, n, acts.get(off + 1), clipped(l, n, add(l, n, xh, hh, sn + "/h_in"), clip, sn + "/h"), sn + "/h_candidate", a, off + 1);
            // h = (1 - z) * cand + z * h = cand - z * cand + z * h
            Value zc = mul(l, n, z, cand, sn + "/z_cand");
            Value nh = EltwiseOps.emit(l, n, OpType.SUB, PLAIN, DType.FLOAT32, sn + "/keep", false, cand, zc);
            h = h == null ? nh : add(l, n, nh, mul(l, n, z, h, sn + "/z_h"), sn + "/h");
          }
          default -> throw new IllegalStateException();
        }
        Value running = running(l, n, lens, t, batch, sn);
        if (running == null) {
          ys[t][d] = h;
        } else {
          // a sequence that has ended (t >= its length) keeps its state and writes zeros to Y; a reverse one starts at its own end
          Value zero = scalar(0f, sn + "/zero");
          ys[t][d] = select(l, n, running, h, zero, sn + "/y");
          h = select(l, n, running, h, hPrev == null ? zero : hPrev, sn + "/h_kept");
          if (c != null) c = select(l, n, running, c, cPrev == null ? zero : cPrev, sn + "/c_kept");
        }
      }
      lastH[d] = h;
      lastC[d] = c;
    }
    // outputs
    String yName = GraphLowering.output(n, 0);
    if (yName != null) {
      List<Value> rows = new ArrayList<>();
      for (int t = 0; t < steps; t++) for (int d = 0; d < dirs; d++) rows.add(ys[t][d].reshaped(ys[t][d].name, new int[] {1, 1, batch, hidden}));
      int[] shape = {steps, dirs, batch, hidden};
      l.define(n, yName, batchFirst ? ShapeOps.permute(l, stack(l, n, rows, shape, yName + "/sequence_first", false), Y_BATCH_FIRST, yName)
          : stack(l, n, rows, shape, yName, true));
    }
    String yh = GraphLowering.output(n, 1);
    if (yh != null) defineLast(l, n, lastH, yh, batch, hidden, batchFirst);
    String yc = kind == Kind.LSTM ? GraphLowering.output(n, 2) : null;
    if (yc != null) defineLast(l, n, lastC, yc, batch, hidden, batchFirst);
  }

  /** [batch, seq, dirs, hidden] from [seq, dirs, batch, hidden] (Y with layout 1). */
  private static final int[] Y_BATCH_FIRST = {2, 0, 1, 3};
  /** The first two of three axes swapped (X, initial_h, initial_c, Y_h and Y_c with layout 1). */
  private static final int[] SWAP = {1, 0, 2};

  /** Y_h or Y_c: the last state of each direction, [dirs, batch, hidden] (layout 0) or [batch, dirs, hidden] (layout 1). */
  private static void defineLast(GraphLowering l, Proto.Node n, Value[] last, String name, int batch, int hidden, boolean batchFirst)
      throws ModelFormatException {
    List<Value> rows = new ArrayList<>();
    for (Value v : last) rows.add(v.reshaped(v.name, new int[] {1, batch, hidden}));
    int[] shape = {last.length, batch, hidden};
    l.define(n, name, batchFirst ? ShapeOps.permute(l, stack(l, n, rows, shape, name + "/direction_first", false), SWAP, name)
        : stack(l, n, rows, shape, name, true));
  }

  /** Input {@code i} (W, R, B or P): a constant, or a float tensor computed at run time. */
  private static Value weight(GraphLowering l, Proto.Node n, int i, String what) throws ModelFormatException {
    Value v = l.floatValue(l.input(n, i, what));
    if (!v.isConstant() && v.dtype != DType.FLOAT32) {
      throw l.error(n, "has " + what + " '" + v.name + "' of type " + v.dtype + "; Kiln compiles float32 " + n.opType());
    }
    return v;
  }

  /** An activation function of the recurrence with its alpha and beta (those it does not take are 0). */
  private record Act(String name, float alpha, float beta) {}

  /** The functions ONNX allows, lower case: how many of alpha and beta each takes and their defaults (NaN: none). */
  private static final java.util.Map<String, float[]> FUNCTIONS = java.util.Map.ofEntries(
      java.util.Map.entry("sigmoid", new float[] {0, 0}), java.util.Map.entry("tanh", new float[] {0, 0}),
      java.util.Map.entry("relu", new float[] {0, 0}), java.util.Map.entry("softsign", new float[] {0, 0}),
      java.util.Map.entry("softplus", new float[] {0, 0}),
      java.util.Map.entry("affine", new float[] {2, Float.NaN, Float.NaN}), java.util.Map.entry("scaledtanh", new float[] {2, Float.NaN, Float.NaN}),
      java.util.Map.entry("hardsigmoid", new float[] {2, 0.2f, 0.5f}), java.util.Map.entry("leakyrelu", new float[] {1, 0.01f}),
      java.util.Map.entry("thresholdedrelu", new float[] {1, Float.NaN}), java.util.Map.entry("elu", new float[] {1, 1f}));

  /**
   * The activations (per direction: f, g[, h]) with their parameters. As onnxruntime reads them (rnn_helpers.cc), names are
   * case-insensitive and each function that takes alpha (and beta) consumes the next value of activation_alpha (and
   * activation_beta) in order, or its ONNX operator's default when the list has run out; Affine, ScaledTanh and
   * ThresholdedRelu have no default here (onnxruntime would use 0), so they need their values given.
   */
  private static List<Act> activations(GraphLowering l, Proto.Node n, Attrs a, Kind kind, int dirs) throws ModelFormatException {
    List<String> names = new ArrayList<>();
    if (a.has("activations")) {
      Proto.Attribute at = n.attribute("activations");
      for (byte[] s : at.strings()) names.add(new String(s, java.nio.charset.StandardCharsets.UTF_8));
    } else {
      for (int d = 0; d < dirs; d++) names.addAll(kind.activations);
    }
    if (names.size() != dirs * kind.activations.size()) {
      throw l.error(n, "has " + names.size() + " activations; " + n.opType() + " needs " + kind.activations.size() + " per direction");
    }
    float[] alphas = a.has("activation_alpha") ? a.floats("activation_alpha") : new float[0];
    float[] betas = a.has("activation_beta") ? a.floats("activation_beta") : new float[0];
    int ai = 0;
    int bi = 0;
    List<Act> acts = new ArrayList<>();
    for (String s : names) {
      String f = s.toLowerCase(java.util.Locale.ROOT);
      float[] spec = FUNCTIONS.get(f);
      if (spec == null) {
        throw l.error(n, "has activation " + s + "; ONNX allows Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh,"
            + " HardSigmoid, Elu, Softsign and Softplus");
      }
      float alpha = 0;
      float beta = 0;
      if (spec[0] >= 1) alpha = ai < alphas.length ? alphas[ai++] : spec[1];
      if (spec[0] >= 2) beta = bi < betas.length ? betas[bi++] : spec[2];
      if (Float.isNaN(alpha) || Float.isNaN(beta)) {
        throw l.error(n, "has activation " + s + " without its activation_alpha" + (spec[0] >= 2 ? " and activation_beta" : "")
            + " value; give them (there is no default)");
      }
      acts.add(new Act(f, alpha, beta));
    }
    return acts;
  }

  private static Value act(GraphLowering l, Proto.Node n, Act f, Value v, String name, Attrs a, int index) throws ModelFormatException {
    Options none = new Options.None();
    return switch (f.name()) {
      case "sigmoid" -> EltwiseOps.emit(l, n, OpType.LOGISTIC, none, DType.FLOAT32, name, false, v);
      case "tanh" -> EltwiseOps.emit(l, n, OpType.TANH, none, DType.FLOAT32, name, false, v);
      case "relu" -> EltwiseOps.emit(l, n, OpType.RELU, none, DType.FLOAT32, name, false, v);
      case "leakyrelu" -> EltwiseOps.emit(l, n, OpType.LEAKY_RELU, new Options.LeakyRelu(f.alpha()), DType.FLOAT32, name, false, v);
      case "affine" -> add(l, n, mul(l, n, v, scalar(f.alpha(), name + "/alpha"), name + "/scaled"), scalar(f.beta(), name + "/beta"), name);
      case "hardsigmoid" -> EltwiseOps.emit(l, n, OpType.CLAMP, new Options.Clamp(0f, 1f), DType.FLOAT32, name, false,
          add(l, n, mul(l, n, v, scalar(f.alpha(), name + "/alpha"), name + "/scaled"), scalar(f.beta(), name + "/beta"), name + "/shifted"));
      case "scaledtanh" -> mul(l, n, EltwiseOps.emit(l, n, OpType.TANH, none, DType.FLOAT32, name + "/tanh", false,
          mul(l, n, v, scalar(f.beta(), name + "/beta"), name + "/scaled")), scalar(f.alpha(), name + "/alpha"), name);
      case "thresholdedrelu" -> {
        Value over = EltwiseOps.emit(l, n, OpType.GREATER, none, DType.BOOL, name + "/over", false, v, scalar(f.alpha(), name + "/alpha"));
        yield EltwiseOps.emit(l, n, OpType.SELECT_V2, none, DType.FLOAT32, name, false, over, v, scalar(0f, name + "/zero"));
      }
      case "elu" -> {
        // max(x, 0) + alpha * min(elu(x), 0), as ActivationOps.eluAlpha
        Value elu = EltwiseOps.emit(l, n, OpType.ELU, none, DType.FLOAT32, name + "/elu", false, v);
        if (f.alpha() == 1f) yield elu;
        Value neg = EltwiseOps.emit(l, n, OpType.MINIMUM, none, DType.FLOAT32, name + "/negative", false, elu, scalar(0f, name + "/zero"));
        Value pos = EltwiseOps.emit(l, n, OpType.RELU, none, DType.FLOAT32, name + "/positive", false, v);
        yield add(l, n, pos, mul(l, n, neg, scalar(f.alpha(), name + "/alpha"), name + "/alpha_negative"), name);
      }
      case "softsign" -> {
        Value abs = EltwiseOps.emit(l, n, OpType.ABS, none, DType.FLOAT32, name + "/abs", false, v);
        yield EltwiseOps.emit(l, n, OpType.DIV, none, DType.FLOAT32, name, false, v, add(l, n, abs, scalar(1f, name + "/one"), name + "/one_plus"));
      }
      case "softplus" -> {
        // relu(x) + log(1 + exp(-|x|)), so exp never overflows (as ActivationOps.softplus)
        Value abs = EltwiseOps.emit(l, n, OpType.ABS, none, DType.FLOAT32, name + "/abs", false, v);
        Value neg = EltwiseOps.emit(l, n, OpType.NEG, none, DType.FLOAT32, name + "/neg_abs", false, abs);
        Value e = EltwiseOps.emit(l, n, OpType.EXP, none, DType.FLOAT32, name + "/exp", false, neg);
        Value onePlus = add(l, n, e, scalar(1f, name + "/one"), name + "/one_plus");
        Value lg = EltwiseOps.emit(l, n, OpType.LOG, none, DType.FLOAT32, name + "/log", false, onePlus);
        yield add(l, n, EltwiseOps.emit(l, n, OpType.RELU, none, DType.FLOAT32, name + "/positive", false, v), lg, name);
      }
      default -> throw new IllegalStateException(f.name());
    };
  }

  /**
   * Which sequences still run at step t, [batch, 1] bool: null when all do (no sequence_lens, or constant ones all past t),
   * a constant for constant lengths, else {@code t < sequence_lens} (LESS) computed on every run.
   */
  private static Value running(GraphLowering l, Proto.Node n, Value lens, int t, int batch, String name) throws ModelFormatException {
    if (lens == null) return null;
    if (lens.isConstant()) {
      long[] lv = lens.constant.longs();
      if (Arrays.stream(lv).allMatch(v -> t < v)) return null;
      long[] run = new long[batch];
      for (int b = 0; b < batch; b++) run[b] = t < lv[b] ? 1 : 0;
      return Value.constant(name + "/running", Constant.ofLongs(new int[] {batch, 1}, DType.BOOL, run));
    }
    Value step = Value.constant(name + "/step", Constant.ofLongs(new int[0], lens.dtype, new long[] {t}));
    return EltwiseOps.emit(l, n, OpType.LESS, new Options.None(), DType.BOOL, name + "/running", false, step, lens);
  }

  private static Value select(GraphLowering l, Proto.Node n, Value cond, Value a, Value b, String name) throws ModelFormatException {
    return EltwiseOps.emit(l, n, OpType.SELECT_V2, new Options.None(), DType.FLOAT32, name, false, cond, a, b);
  }

  private static Value scalar(float v, String name) {
    return Value.constant(name, Constant.ofFloats(new int[0], new float[] {v}));
  }

  private static Value one(String step) {
    return scalar(1f, step + "/one");
  }

  private static Value clipped(GraphLowering l, Proto.Node n, Value v, float clip, String name) throws ModelFormatException {
    if (Float.isNaN(clip)) return v;
    return EltwiseOps.emit(l, n, OpType.CLAMP, new Options.Clamp(-clip, clip), DType.FLOAT32, name + "/clipped", false, v);
  }

  private static Value add(GraphLowering l, Proto.Node n, Value a, Value b, String name) throws ModelFormatException {
    return EltwiseOps.emit(l, n, OpType.ADD, PLAIN, DType.FLOAT32, name, false, a, b);
  }

  private static Value mul(GraphLowering l, Proto.Node n, Value a, Value b, String name) throws ModelFormatException {
    return EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, name, false, a, b);
  }

  private static Value vec(float[] v, int from, int count, String name) {
    return Value.constant(name, Constant.ofFloats(new int[] {count}, Arrays.copyOfRange(v, from, from + count)));
  }

  /** Gate {@code k} (columns [k*hidden, (k+1)*hidden)) of a [batch, gates*hidden] value. */
  private static Value gate(GraphLowering l, Proto.Node n, Value s, int k, int hidden, String name) throws ModelFormatException {
    return gateRange(l, n, s, k * hidden, (k + 1) * hidden, name);
  }

  private static Value gateRange(GraphLowering l, Proto.Node n, Value s, int from, int to, String name) throws ModelFormatException {
    if (from == 0 && to == s.shape[1]) return s;
    return slice(l, n, s, 1, from, to - from, name, new int[] {s.shape[0], to - from});
  }

  /** Rows or columns [from, from+count) along {@code axis} of a 2-D or 3-D value, as {@code shape}. */
  private static Value slice(GraphLowering l, Proto.Node n, Value v, int axis, int from, int count, String name, int[] shape)
      throws ModelFormatException {
    int r = v.rank();
    int[] begin = new int[r];
    int[] step = new int[r];
    Arrays.fill(step, 1);
    int[] s = v.shape.clone();
    begin[axis] = from;
    s[axis] = count;
    Value out = v.isConstant() ? Value.constant(name, FoldOps.strided(v.constant, begin, step, s))
        : AxisOps.stridedSlice(l, n, v, begin, step, s, name, false);
    return out.reshaped(name, shape);
  }

  /** {@code v W^T + b} with W [units, depth] (FULLY_CONNECTED). */
  private static Value dense(GraphLowering l, Proto.Node n, Value v, float[] w, int units, int depth, float[] b, String name)
      throws ModelFormatException {
    return dense(l, n, v, Constant.ofFloats(new int[] {units, depth}, w), b, name);
  }

  private static Value dense(GraphLowering l, Proto.Node n, Value v, Constant w, float[] b, String name) throws ModelFormatException {
    TensorRef in = l.layout(v, null);
    int units = w.shape()[0];
    TensorRef wt = l.constantTensor(name + "/weights", w, Quantization.NONE);
    TensorRef bt = b == null ? null : l.constantTensor(name + "/bias", Constant.ofFloats(new int[] {units}, b), Quantization.NONE);
    int[] shape = {v.shape[0], units};
    TensorRef t = l.newTensor(name, false, shape, DType.FLOAT32, Quantization.NONE);
    l.op(OpType.FULLY_CONNECTED, new Options.FullyConnected(Activation.NONE, false), t, in, wt, bt);
    return Value.tensor(name, t, shape);
  }

  /** {@code v W^T + b} with weight and bias tensors made once. */
  private static Value dense(GraphLowering l, Proto.Node n, Value v, TensorRef w, TensorRef b, String name) throws ModelFormatException {
    TensorRef in = l.layout(v, null);
    int[] shape = {v.shape[0], w.shape()[0]};
    TensorRef t = l.newTensor(name, false, shape, DType.FLOAT32, Quantization.NONE);
    l.op(OpType.FULLY_CONNECTED, new Options.FullyConnected(Activation.NONE, false), t, in, w, b);
    return Value.tensor(name, t, shape);
  }

  private static Value stack(GraphLowering l, Proto.Node n, List<Value> parts, int[] shape, String name, boolean onnxName)
      throws ModelFormatException {
    if (parts.size() == 1) return parts.get(0).reshaped(name, shape);
    TensorRef[] in = new TensorRef[parts.size()];
    for (int i = 0; i < in.length; i++) in[i] = l.layout(parts.get(i), null);
    int[] flat = {parts.size(), (int) (parts.get(0).elements())};
    TensorRef[] rows = new TensorRef[in.length];
    for (int i = 0; i < in.length; i++) rows[i] = l.reshape(in[i], new int[] {1, flat[1]}, name + "/row" + i, false, Quantization.NONE);
    TensorRef t = l.newTensor(name, onnxName, flat, DType.FLOAT32, Quantization.NONE);
    l.op(OpType.CONCATENATION, new Options.Concat(0, Activation.NONE), t, rows);
    return Value.tensor(name, t, flat).reshaped(name, shape);
  }
}
