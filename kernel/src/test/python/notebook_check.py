#!/usr/bin/env python3
"""Executes Kiln's notebooks headless with nbclient and checks what they show: values (outputs equal
to the reference, accuracy, sizes) and the rich displays (text/html tables, image/svg+xml charts).

  python3 notebook_check.py --kernel kiln-test --notebooks DIR --report out.json \
      [--seed-executed out/seed-graph-vs-aot.ipynb] [--only quickstart,int8-vs-float,microtvm-drop-in]

The seed notebook is checked as notebooks/run-seed left it (--seed-executed) or, without that flag,
executed here like the others. Writes one JSON object per check to --report:
{"name", "ok", "detail", "seconds"}.
"""
import argparse
import json
import os
import re
import sys
import time
import traceback

import nbformat
from nbclient import NotebookClient

results = []


def record(name, ok, detail="", seconds=0.0):
    results.append({"name": name, "ok": bool(ok), "detail": detail, "seconds": round(seconds, 3)})


def check(name, fn, *args):
    t0 = time.monotonic()
    try:
        detail = fn(*args)
        record(name, True, detail or "", time.monotonic() - t0)
    except AssertionError as e:
        record(name, False, "assertion failed: %s" % e, time.monotonic() - t0)
    except Exception:
        record(name, False, traceback.format_exc(), time.monotonic() - t0)


# ---------------------------------------------------------------------------------------- reading cells

def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def cell(nb, needle):
    """The first code cell whose source contains needle."""
    for c in nb.cells:
        if c.cell_type == "code" and needle in c.source:
            return c
    raise AssertionError("no code cell contains %r" % needle)


def outputs(c, output_type=None):
    return [o for o in c.outputs if output_type is None or o.output_type == output_type]


def data(c, mime, output_type=None):
    """Every output's `mime` data in the cell (display_data and execute_result), joined."""
    found = [text(o.get("data", {}).get(mime)) for o in outputs(c, output_type) if mime in o.get("data", {})]
    assert found, "cell %r has no %s output; it has %s" % (c.source[:60], mime,
                                                          [(o.output_type, sorted(o.get("data", {}))) for o in c.outputs])
    return "\n".join(found)


def result(c):
    r = outputs(c, "execute_result")
    assert len(r) == 1, "cell %r: %d execute_result outputs" % (c.source[:60], len(r))
    return r[0]


def stdout(c):
    return "".join(text(o.get("text")) for o in outputs(c, "stream") if o.get("name") == "stdout")


def no_errors(nb):
    errors = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        expected = "raises-exception" in c.metadata.get("tags", [])
        got = outputs(c, "error")
        if got and not expected:
            errors.append("cell %d %r: %s: %s" % (i, c.source[:50], got[0].ename, got[0].evalue[:300]))
        if expected and not got:
            errors.append("cell %d %r was to raise and did not" % (i, c.source[:50]))
    assert not errors, "\n".join(errors)
    return "%d code cells" % sum(1 for c in nb.cells if c.cell_type == "code")


def every_code_cell_ran(nb):
    missing = [c.source[:50] for c in nb.cells if c.cell_type == "code" and c.get("execution_count") is None]
    assert not missing, "not executed: %s" % missing


def count(s, needle):
    return s.count(needle)


SAVE_DIR = None  # --save-executed: where executed notebooks are written (the browser test opens them)


def execute(path, kernel):
    nb = nbformat.read(path, as_version=4)
    t0 = time.monotonic()
    NotebookClient(nb, timeout=180, kernel_name=kernel, allow_errors=True,
                   resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()
    if SAVE_DIR:
        os.makedirs(SAVE_DIR, exist_ok=True)
        nbformat.write(nb, os.path.join(SAVE_DIR, os.path.basename(path)))
    return nb, time.monotonic() - t0


# ---------------------------------------------------------------------------------------- the seed notebook

def check_seed(nb):
    name = "seed-graph-vs-aot: "
    check(name + "every code cell ran, and only the wrong-name cell raised", lambda: (every_code_cell_ran(nb), no_errors(nb))[1])

    def model():
        html = data(cell(nb, "Kiln.load("), "text/html")
        assert 'class="kiln-model"' in html, html[:200]
        assert ">inputs and outputs</caption>" in html, "no I/O table"
        for name_ in (">predict_images:0<", ">predict_images_0<", ">StatefulPartitionedCall:0<", ">StatefulPartitionedCall_0<"):
            assert name_ in html, "I/O table lacks %s" % name_
        assert ">-128<" in html and ">0.003921569<" in html, "quantization missing"
        assert ">operators</caption>" in html and ">CONV_2D<" in html
        return "model display: I/O table with both names and quantization, op table"
    check(name + "the model shows an I/O table with model and C names, shapes, dtypes and quantization", model)

    def builds():
        for src, executor in (("model.build(Executor.graph())", ">graph<"), ("interfaceApi(\"c\")", ">c<")):
            html = data(cell(nb, src), "text/html")
            assert 'class="kiln-build"' in html and executor in html, html[:300]
            assert ">executor and options</caption>" in html and ">memory</caption>" in html
            assert 'aria-label="memory plan timeline' in html, "no memory plan SVG in the build"
            assert "metadata (complete)" in html and "&quot;entry_point&quot;" in html
    check(name + "both builds show options, arena vs lower bound, the timeline and complete metadata", builds)

    def metadata():
        c = cell(nb, "graph.metadata()")
        html = data(c, "text/html")
        plain = data(c, "text/plain")
        assert 'class="kiln-comparison"' in html
        assert "* executor.kind | graph=graph | aot=aot" in plain, plain[:500]
        assert "  inputs[0].name | graph=predict_images:0 | aot=predict_images:0" in plain
        assert "  memory.arena_bytes | graph=640 | aot=640" in plain
        differ = [l for l in plain.splitlines() if l.startswith("* ")]
        assert all(l.startswith("* executor.") for l in differ), "fields other than the executor's differ: %s" % differ
        return "%d fields differ, all the executor's" % len(differ)
    check(name + "metadata side by side differs only in the executor's fields", metadata)

    def memory():
        html = data(cell(nb, "graph.memoryPlan(), \"aot\", aot.memoryPlan()"), "text/html")
        assert count(html, 'aria-label="memory plan timeline') == 2, "want two memory-plan charts"
        assert "<svg" not in html, "charts in HTML are HTML (untrusted JupyterLab strips inline SVG)"
        assert count(html, ">arena (peak) 640 B</div>") == 2 and count(html, ">lower bound 640 B</div>") == 2
    check(name + "memory side by side: two timelines with the peak and the lower bound", memory)

    def same_call():
        c = cell(nb, "Tensor classify(DeviceSession device, Tensor input)")
        assert 'setInput("predict_images:0", input)' in c.source
        html = data(c, "text/html")
        assert count(html, 'aria-label="bar chart: top 10 of 10 classes') == 3, "want three bar charts (graph, aot, reference)"
        assert count(html, "argmax 7") == 3, "every output's argmax is 7"
    check(name + "the same setInput call on both executors; each output and the reference as table + bar chart", same_call)

    def equal():
        c = cell(nb, "fromGraph.equals(fromAot) && fromAot.equals(reference)")
        out = stdout(c)
        assert "graph == aot:       true" in out and "aot == reference:   true" in out, out
        assert text(result(c)["data"]["text/plain"]) == "true"
        return out.strip().replace("\n", "; ")
    check(name + "graph and AoT outputs equal each other and the reference (the equal cell prints true)", equal)

    def compare_rows(plain, want):
        """The comparison table's rows as {(executor, device): cells}, from its text/plain form."""
        rows = {}
        for line in plain.splitlines():
            f = line.split()
            if f and f[0] == "digits_cnn_int8":
                rows[(f[1], f[2])] = f
        assert sorted(rows) == sorted(want), "rows %s, want %s:\n%s" % (sorted(rows), sorted(want), plain)
        return rows

    def samples():
        c = cell(nb, "Kiln.compare(model).executors(graph, aot).on(Device.host())")
        table = data(c, "text/html", "display_data")
        assert 'class="kiln-compare"' in table and count(table, 'class="kiln-compare-ok"') == 2, table[:400]
        assert "<svg" not in table, "the table's bars are HTML/CSS, not SVG"
        assert count(table, 'class="kiln-bar"') == 4, "a latency and a flash bar per row"
        chart = result(c)["data"]
        assert "image/svg+xml" in chart and "image/png" in chart, "the chart is an output of its own: %s" % sorted(chart)
        assert "digits_cnn_int8 · aot-c-unpacked · host" in text(chart["image/svg+xml"])
        rows = compare_rows(text(chart["text/plain"]), [("graph", "host"), ("aot-c-unpacked", "host")])
        for f in rows.values():
            # model executor device match max|diff| steps top-1 median min max instructions arena flash code weights params compile
            assert f[3:7] == ["yes", "0", "0", "100%"], "row %s" % f
            assert 0 < float(f[8]) <= float(f[7]) <= float(f[9]), "latency min <= median <= max: %s" % f
            assert f[11] == "640" and int(f[12]) > int(f[13]) > 0 and f[14] == "10000", "arena, flash, code, weights: %s" % f
        assert "every row matches its reference" in text(chart["text/plain"])
        return "; ".join(" ".join(f) for f in rows.values())
    check(name + "Kiln.compare: every sample on both executors matches the reference, as a table with HTML bars and a chart output", samples)

    def compare_value():
        c = cell(nb, 'comparison.row("digits_cnn_int8", "aot-c-unpacked", "host")')
        out = stdout(c)
        assert "every row matches the reference: true" in out, out
        assert "aot max |diff|: 0.0 (0 steps), top-1 agreement: 1.0" in out, out
        assert "aot arena: 640 B, the build's own: 640 B" in out, out
        assert text(result(c)["data"]["text/plain"]) == "true"
        return out.strip().replace("\n", "; ")
    check(name + "the comparison's figures are values: all match, max |diff| 0, arena equal to the build's", compare_value)

    def saved():
        c = cell(nb, "comparison.save(")
        out = stdout(c)
        for ext in ("html", "md", "csv", "json"):
            m = re.search(r"saved (\S*seed-comparison\.%s) \((\d+) bytes\)" % ext, out)
            assert m and int(m.group(2)) > 200, out
        return out.strip().replace("\n", "; ")
    check(name + "the comparison saved as .html, .md, .csv and .json", saved)

    def on_devices():
        c = cell(nb, 'on(Device.host(), Device.qemu("mps2-an386"))')
        rows = compare_rows(text(result(c)["data"]["text/plain"]),
                            [(e, d) for e in ("graph", "aot-c-unpacked") for d in ("host", "qemu:mps2-an386")])
        for (e, d), f in rows.items():
            assert f[3] == "yes" and f[4] == "0", "row %s" % f
            if d == "host":
                assert f[10] == "-", "the host counts time, not instructions: %s" % f
            else:
                assert 100000 < int(f[10]) < 5000000, "an exact instruction count on the board: %s" % f
        return "; ".join("%s on %s: %s instructions" % (e, d, f[10]) for (e, d), f in rows.items())
    check(name + "Kiln.compare on the host and the QEMU board: all match, instructions counted on the board", on_devices)

    def c_name():
        c = cell(nb, 'setInput("predict_images_0", image)')
        assert text(result(c)["data"]["text/plain"]) == "true"
    check(name + "the C name predict_images_0 gives the reference output too", c_name)

    def wrong_name():
        c = cell(nb, 'setInput("predict_images", image)')
        err = outputs(c, "error")
        assert len(err) == 1 and err[0].ename == "KilnException", err
        assert "no input named 'predict_images'" in err[0].evalue
        assert "predict_images:0 (C: predict_images_0)" in err[0].evalue, err[0].evalue
        tb = "\n".join(err[0].traceback)
        assert "at dev.kiln" not in tb and ".java:" not in tb, "stack frames in the error:\n" + tb
        assert len(err[0].traceback) == 1 and "no input named" not in tb, "the panel shows the message once, not again in red:\n" + tb
        html = data(c, "text/html", "display_data")
        assert 'class="kiln-error"' in html and "Valid choices:" in html and "<b>Fix:</b>" in html, html
        return err[0].evalue.splitlines()[0]
    check(name + "a wrong name is a Kiln error listing both names, shown with its fix and no stack trace", wrong_name)

    def board():
        c = cell(nb, 'Device.qemu("mps2-an386")')
        out = stdout(c)
        assert "host == board:      true" in out and "board == reference: true" in out, out
        m = re.search(r"instructions per inference on the board: (\d+)", out)
        assert m and 100000 < int(m.group(1)) < 5000000, out
        html = data(c, "text/html")
        assert count(html, 'aria-label="bar chart: top 10 of 10 classes') == 2, "want the host's and the board's bar charts"
        return out.strip().replace("\n", "; ")
    check(name + "the same model on Device.host() and Device.qemu(\"mps2-an386\"): equal outputs, an instruction count", board)

    def timings():
        c = cell(nb, "timeEvaluator()")
        html = data(c, "text/html")
        assert count(html, 'class="kiln-timing"') == 2 and count(html, "class=\"kiln-chart\"") == 2 and "<svg" not in html, html[:300]
        medians = re.findall(r"median ([0-9.]+) us per run", data(c, "text/plain"))
        assert len(medians) == 2 and all(float(m) > 0 for m in medians), medians
        return "graph %s us, aot %s us" % tuple(medians)
    check(name + "device timings of both executors: tables and strips", timings)

    def sessions():
        opened = data(cell(nb, "graph.flash(Device.host())"), "text/html")
        assert count(opened, 'class="kiln-session"') == 2 and count(opened, ">open<") >= 2, opened[:300]
        assert ">host (local process)<" in opened and "process(" in opened
        closed = data(cell(nb, "aotDevice.close();"), "text/html")
        assert ">closed<" in closed
    check(name + "sessions show device, transport and state (open, then closed)", sessions)


# ---------------------------------------------------------------------------------------- quickstart

def check_quickstart(nb, seconds):
    name = "quickstart: "
    def ran():
        every_code_cell_ran(nb)
        cells = sum(1 for c in nb.cells if c.cell_type == "code")
        assert cells == 5, "%d code cells, not five" % cells
        return no_errors(nb)
    check(name + "five code cells, all ran without error", ran)

    def displays():
        assert ">inputs and outputs</caption>" in data(cell(nb, "Kiln.load("), "text/html")
        assert 'class="kiln-build"' in data(cell(nb, "model.build("), "text/html")
        run = cell(nb, "build.flash(Device.host())")
        svg = data(run, "image/svg+xml")
        assert "font-weight=\"600\">class 7</text>" in svg, "the top class, 7, first: " + svg[:400]
        assert "argmax 7" in data(run, "text/html")
        look = cell(nb, "display(build.memoryPlan())")
        assert 'aria-label="memory plan timeline' in data(look, "image/svg+xml", "display_data")
        assert ">open<" in data(look, "text/html", "execute_result")
        t = cell(nb, "timeEvaluator()")
        assert 'class="kiln-timing"' in data(t, "text/html") and "<svg" in data(t, "image/svg+xml")
    check(name + "model table, build, classifier bar chart (top class 7), memory plan SVG, session, timing", displays)


# ---------------------------------------------------------------------------------------- int8 vs float

def check_int8_vs_float(nb, seconds):
    name = "int8-vs-float: "
    check(name + "every code cell ran without error", lambda: (every_code_cell_ran(nb), no_errors(nb))[1])

    def accuracy():
        plain = data(cell(nb, "var accuracy = Show.table("), "text/plain")
        rows = [[x.strip() for x in r.split("|") if x.strip()] for r in plain.splitlines() if re.match(r"^\s*\d+\s*\|", r)]
        assert len(rows) == 3, plain
        for f in rows:
            assert f[1] == f[2] and f[3] == f[4], "argmax differs from the reference: %s" % f
        return "; ".join(" ".join(f) for f in rows)
    check(name + "both models' answers equal their references' argmax on every sample", accuracy)

    def summary():
        c = cell(nb, "Show.table(\"measure\"")
        plain = data(c, "text/plain")
        rows = {f[0]: f[1:] for f in ([x.strip() for x in r.split("|") if x.strip()] for r in plain.splitlines()) if len(f) >= 3}
        assert rows["accuracy on the samples"][:2] == ["3/3", "3/3"], rows
        w = rows["weights (bytes)"]
        assert int(w[0]) == 39216 and int(w[1]) == 10008, w
        a = rows["arena (bytes)"]
        assert int(a[1]) * 4 == int(a[0]), "int8 arena is a quarter of float's: %s" % a
        fl = rows["flash: code + constants (bytes)"]
        assert 0 < int(fl[1]) < int(fl[0]), fl
        lat = rows["median latency (us)"]
        assert float(lat[0]) > 0 and float(lat[1]) > 0, lat
        assert ">measure<" in data(c, "text/html")
        return "; ".join("%s: %s" % (k, " / ".join(v)) for k, v in rows.items() if k != "measure")
    check(name + "summary: accuracy 3/3 each, weights, flash, arena (int8 a quarter) and latency", summary)

    def displays():
        assert count(data(cell(nb, "Show.sideBySide(\"float\", fp, \"int8\", q8)"), "text/html"), ">inputs and outputs</caption>") == 2
        assert count(data(cell(nb, "fpBuild.memoryPlan()"), "text/html"), 'aria-label="memory plan timeline') == 2
        outs = data(cell(nb, "q8Out.dequantize("), "text/html")
        assert count(outs, 'aria-label="bar chart: top 10 of 10 classes') == 2 and count(outs, "argmax 7") == 2
    check(name + "both models' I/O tables, both memory plans, both outputs as bar charts", displays)


# ---------------------------------------------------------------------------------------- microTVM drop-in

def check_microtvm_drop_in(nb, seconds):
    name = "microtvm-drop-in: "
    check(name + "every code cell ran, and only the strict device's wrong-name cell raised",
          lambda: (every_code_cell_ran(nb), no_errors(nb))[1])

    def export():
        c = cell(nb, "build.exportMlf(")
        assert re.search(r"digits\.tar: \d+ bytes", stdout(c)), stdout(c)
        names = text(result(c).get("data", {}).get("text/plain"))
        assert "tvmgen_default_run" in names and "tvmgen_default_get_c_metadata" in names, names
        return stdout(c).strip()
    check(name + "the MLF archive is written and the system library lists the AoT entry and metadata getter", export)

    def seed_failure():
        err = outputs(cell(nb, "Device.host().strictMicroTvm());\nstrict.executor()"), "error")
        assert len(err) == 1, err
        assert "cannot find 'predict_images:0' among input" in err[0].evalue, err[0].evalue
        logs = text(result(cell(nb, "strict.deviceLogs()")).get("data", {}).get("text/plain"))
        assert "aot_executor.c: Check failed: rv >= 0: cannot find 'predict_images:0' among input." in logs, logs
        return err[0].evalue.splitlines()[0]
    check(name + "the strict device aborts on the model name with the CRT's CHECK text", seed_failure)

    def fix():
        html = data(cell(nb, "setInput(\"predict_images_0\""), "text/html")
        assert count(html, "argmax 7") == 2, html[:400]
    check(name + "the C name on the strict device and the model name on Kiln's device both answer 7", fix)


NOTEBOOKS = {"quickstart": check_quickstart, "int8-vs-float": check_int8_vs_float, "microtvm-drop-in": check_microtvm_drop_in}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--notebooks", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--seed-executed")
    ap.add_argument("--only", default="seed-graph-vs-aot,quickstart,int8-vs-float,microtvm-drop-in")
    ap.add_argument("--save-executed", help="write every notebook executed here to this folder")
    args = ap.parse_args()
    global SAVE_DIR
    SAVE_DIR = args.save_executed
    only = args.only.split(",")
    try:
        if "seed-graph-vs-aot" in only:
            if args.seed_executed:
                try:
                    check_seed(nbformat.read(args.seed_executed, as_version=4))
                except Exception:
                    record("seed-graph-vs-aot: the executed notebook can be read", False, traceback.format_exc())
            else:
                try:
                    nb, s = execute(os.path.join(args.notebooks, "seed-graph-vs-aot.ipynb"), args.kernel)
                    record("seed-graph-vs-aot: executed with nbclient", True, "%.1f s" % s, s)
                    check_seed(nb)
                except Exception:
                    record("seed-graph-vs-aot: executed with nbclient", False, traceback.format_exc())
        for name, checker in NOTEBOOKS.items():
            if name not in only:
                continue
            try:
                nb, s = execute(os.path.join(args.notebooks, name + ".ipynb"), args.kernel)
            except Exception:
                record(name + ": executed with nbclient", False, traceback.format_exc())
                continue
            record(name + ": executed with nbclient", True, "%.1f s" % s, s)
            checker(nb, s)
    finally:
        with open(args.report, "w") as f:
            json.dump(results, f, indent=1)
    for r in results:
        print("%s %-100s %6.2fs %s" % ("PASS" if r["ok"] else "FAIL", r["name"], r["seconds"],
                                       "" if r["ok"] else r["detail"][:2000]))
    return 1 if any(not r["ok"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
