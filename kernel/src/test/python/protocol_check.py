#!/usr/bin/env python3
"""Drives the Kiln kernel through a real Jupyter client (jupyter_client, nbclient) and checks every
message type the kernel answers, the way jupyter_kernel_test would (it is not installable here).

Writes one JSON object per check to --report: {"name", "ok", "detail", "seconds"}. Every wait has a
timeout; the script never blocks for long on a dead kernel.

  python3 protocol_check.py --kernel kiln-test --report out.json [--model path.tflite]
"""
import argparse
import json
import os
import sys
import time
import traceback

from jupyter_client.manager import KernelManager

TIMEOUT = 30  # seconds, for any one reply
HEADER_KEYS = {"msg_id", "username", "session", "date", "msg_type", "version"}

results = []


def record(name, ok, detail="", seconds=0.0):
    results.append({"name": name, "ok": bool(ok), "detail": detail, "seconds": round(seconds, 3)})


class Checks:
    def __init__(self, kernel_name, model):
        self.kernel_name = kernel_name
        self.model = model
        self.km = None
        self.kc = None

    # ------------------------------------------------------------------ plumbing

    def start(self):
        t0 = time.monotonic()
        self.km = KernelManager(kernel_name=self.kernel_name)
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        return time.monotonic() - t0

    def shell_reply(self, msg_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no shell reply to %s within %ss" % (msg_id, timeout))
            msg = self.kc.get_shell_msg(timeout=left)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def iopub_until_idle(self, msg_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        out = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no idle status for %s within %ss" % (msg_id, timeout))
            msg = self.kc.get_iopub_msg(timeout=left)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            out.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out

    def execute(self, code, timeout=TIMEOUT, **kw):
        msg_id = self.kc.execute(code, **kw)
        reply = self.shell_reply(msg_id, timeout)
        iopub = self.iopub_until_idle(msg_id, timeout)
        return reply, iopub

    @staticmethod
    def of_type(msgs, msg_type):
        return [m for m in msgs if m["msg_type"] == msg_type]

    @staticmethod
    def valid_reply(reply, expected_type):
        problems = []
        missing = HEADER_KEYS - set(reply["header"])
        if missing:
            problems.append("header lacks %s" % sorted(missing))
        if reply["header"]["msg_type"] != expected_type:
            problems.append("msg_type %s != %s" % (reply["header"]["msg_type"], expected_type))
        status = reply["content"].get("status")
        if status not in ("ok", "error", "abort"):
            problems.append("status %r" % status)
        if status == "error":
            for k in ("ename", "evalue", "traceback"):
                if k not in reply["content"]:
                    problems.append("error reply lacks " + k)
        return problems

    def check(self, name, fn):
        t0 = time.monotonic()
        try:
            detail = fn()
            record(name, True, detail or "", time.monotonic() - t0)
        except AssertionError as e:
            record(name, False, "assertion failed: %s" % e, time.monotonic() - t0)
        except Exception:
            record(name, False, traceback.format_exc(), time.monotonic() - t0)

    # ------------------------------------------------------------------ checks

    def kernel_info(self):
        msg_id = self.kc.kernel_info()
        reply = self.shell_reply(msg_id)
        assert not self.valid_reply(reply, "kernel_info_reply"), self.valid_reply(reply, "kernel_info_reply")
        c = reply["content"]
        assert c["status"] == "ok", c
        assert c["implementation"] == "kiln", c
        assert c["protocol_version"].startswith("5."), c
        li = c["language_info"]
        assert li["name"] == "java", li
        assert li["file_extension"].startswith("."), li
        assert li["mimetype"], li
        assert "Kiln" in c["banner"], c["banner"]
        self.iopub_until_idle(msg_id)
        return "implementation %s %s, java %s" % (c["implementation"], c["implementation_version"], li["version"])

    def execute_result(self):
        reply, iopub = self.execute("1 + 2")
        assert not self.valid_reply(reply, "execute_reply"), self.valid_reply(reply, "execute_reply")
        c = reply["content"]
        assert c["status"] == "ok", c
        assert "user_expressions" in c and "payload" in c, c
        n = c["execution_count"]
        inputs = self.of_type(iopub, "execute_input")
        assert inputs and inputs[0]["content"]["code"] == "1 + 2" and inputs[0]["content"]["execution_count"] == n, inputs
        assert iopub[0]["msg_type"] == "status" and iopub[0]["content"]["execution_state"] == "busy", iopub[0]
        results_ = self.of_type(iopub, "execute_result")
        assert len(results_) == 1, iopub
        assert results_[0]["content"]["data"]["text/plain"] == "3", results_[0]
        assert results_[0]["content"]["execution_count"] == n, results_[0]
        reply2, _ = self.execute("2 * 3")
        assert reply2["content"]["execution_count"] == n + 1, (n, reply2["content"])
        return "execution_count %d then %d" % (n, n + 1)

    def stdout_stderr(self):
        reply, iopub = self.execute('System.out.println("hello out");\nSystem.err.println("hello err");')
        assert reply["content"]["status"] == "ok", reply["content"]
        streams = self.of_type(iopub, "stream")
        out = "".join(m["content"]["text"] for m in streams if m["content"]["name"] == "stdout")
        err = "".join(m["content"]["text"] for m in streams if m["content"]["name"] == "stderr")
        assert out == "hello out\n", streams
        assert err == "hello err\n", streams
        assert not self.of_type(iopub, "execute_result"), iopub

    def runtime_error(self):
        reply, iopub = self.execute('int before = 1;\nthrow new IllegalStateException("boom");')
        assert not self.valid_reply(reply, "execute_reply"), self.valid_reply(reply, "execute_reply")
        c = reply["content"]
        assert c["status"] == "error" and c["ename"] == "IllegalStateException" and c["evalue"] == "boom", c
        errors = self.of_type(iopub, "error")
        assert len(errors) == 1, iopub
        tb = "\n".join(errors[0]["content"]["traceback"])
        n = c["execution_count"]
        assert ("In [%d] line 2" % n) in tb, tb
        for internal in ("jdk.jshell", "REPL.", "EvalException", "java.lang.reflect"):
            assert internal not in tb, "traceback shows %s:\n%s" % (internal, tb)
        assert len(errors[0]["content"]["traceback"]) <= 3, tb
        return tb.replace("\x1b[31m", "").replace("\x1b[0m", "")

    def compile_error(self):
        reply, iopub = self.execute('int ok = 1;\nint wrong = "text";')
        c = reply["content"]
        assert c["status"] == "error" and c["ename"] == "CompileError", c
        tb = "\n".join(self.of_type(iopub, "error")[0]["content"]["traceback"])
        assert 'int wrong = "text";' in tb and "^^^^^^" in tb and "incompatible types" in tb, tb
        return tb.replace("\x1b[31m", "").replace("\x1b[0m", "")

    def kiln_model(self):
        if not self.model or not os.path.exists(self.model):
            raise AssertionError("model file missing: %r" % self.model)
        reply, iopub = self.execute('var model = Kiln.load("%s");' % self.model, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        res = self.of_type(iopub, "execute_result")
        assert res and res[0]["content"]["data"]["text/plain"], iopub
        reply, iopub = self.execute("model.inputs().size()")
        assert self.of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "1", iopub
        return res[0]["content"]["data"]["text/plain"].splitlines()[0]

    def renderer_hook(self):
        code = ('record Point(int x, int y) {}\n'
                'Renderers.register(Point.class, p -> MimeBundle.html("<b>" + p.x() + "," + p.y() + "</b>")'
                '.withSvg("<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>"));\n'
                'new Point(3, 4)')
        reply, iopub = self.execute(code)
        assert reply["content"]["status"] == "ok", reply["content"]
        data = self.of_type(iopub, "execute_result")[0]["content"]["data"]
        assert data["text/html"] == "<b>3,4</b>", data
        assert data["image/svg+xml"].startswith("<svg"), data
        assert data["text/plain"] == "Point[x=3, y=4]", data
        return sorted(data)

    def display_and_update(self):
        reply, iopub = self.execute('String id = display("first");\nupdateDisplay(id, "second");')
        assert reply["content"]["status"] == "ok", reply["content"]
        shown = self.of_type(iopub, "display_data")
        updated = self.of_type(iopub, "update_display_data")
        assert len(shown) == 1 and shown[0]["content"]["data"]["text/plain"] == "first", iopub
        assert len(updated) == 1 and updated[0]["content"]["data"]["text/plain"] == "second", iopub
        assert shown[0]["content"]["transient"]["display_id"] == updated[0]["content"]["transient"]["display_id"]

    def complete(self):
        code = "var m2 = Kiln.lo"
        msg_id = self.kc.complete(code, len(code))
        reply = self.shell_reply(msg_id)
        assert not self.valid_reply(reply, "complete_reply"), self.valid_reply(reply, "complete_reply")
        c = reply["content"]
        assert "load(" in c["matches"], c
        assert c["cursor_start"] == len(code) - 2 and c["cursor_end"] == len(code), c
        types = c["metadata"]["_jupyter_types_experimental"]
        assert [t["text"] for t in types] == c["matches"], types
        load = [t for t in types if t["text"] == "load("][0]
        assert load["type"] == "method" and "Kiln.load(" in load["signature"], load
        msg_id = self.kc.complete("%mav", 4)
        c2 = self.shell_reply(msg_id)["content"]
        assert c2["matches"] == ["%maven", "%mavenRepo"], c2
        code3 = 'var s3 = "Kiln.lo'
        c3 = self.shell_reply(self.kc.complete(code3, len(code3)))["content"]
        assert c3["matches"] == [], "completion inside a string literal: %s" % c3
        return "matches %s; load( is %s" % (c["matches"], load["signature"].replace("\n", " | "))

    def inspect(self):
        code = 'Kiln.load("x")'
        msg_id = self.kc.inspect(code, 7)
        reply = self.shell_reply(msg_id)
        assert not self.valid_reply(reply, "inspect_reply"), self.valid_reply(reply, "inspect_reply")
        c = reply["content"]
        assert c["found"] is True, c
        text = c["data"]["text/plain"]
        assert "Model Kiln.load(String path)" in text and "Reads a model file" in text, text
        msg_id = self.kc.inspect("nothingHere", 3)
        assert self.shell_reply(msg_id)["content"]["found"] is False
        bare = self.shell_reply(self.kc.inspect("Kiln.load", 9))["content"]
        assert bare["found"] is True and "Model Kiln.load(String path)" in bare["data"]["text/plain"], bare
        jdk = self.shell_reply(self.kc.inspect("ArrayList", 9))["content"]
        assert jdk["found"] is True and "java.util.ArrayList" in jdk["data"]["text/plain"], jdk
        return text

    def is_complete(self):
        def ask(code):
            msg_id = self.kc.is_complete(code)
            return self.shell_reply(msg_id)["content"]
        assert ask("int x = 1;")["status"] == "complete"
        inc = ask("for (int i = 0; i < 3; i++) {")
        assert inc["status"] == "incomplete" and inc["indent"] == "    ", inc
        assert ask("int x = );")["status"] == "invalid"

    def history(self):
        msg_id = self.kc.history(hist_access_type="tail", n=50, output=False, raw=True)
        reply = self.shell_reply(msg_id)
        assert not self.valid_reply(reply, "history_reply"), self.valid_reply(reply, "history_reply")
        inputs = [h[2] for h in reply["content"]["history"]]
        assert "1 + 2" in inputs and "2 * 3" in inputs, inputs
        msg_id = self.kc.history(hist_access_type="search", pattern="2 *", n=5, output=True, raw=True, unique=True)
        found = self.shell_reply(msg_id)["content"]["history"]
        assert any(h[2][0] == "2 * 3" and h[2][1] == "6" for h in found), found
        msg_id = self.kc.history(hist_access_type="range", session=0, start=1, stop=3, raw=True, output=False)
        rng = self.shell_reply(msg_id)["content"]
        assert rng["status"] == "ok" and [h[1] for h in rng["history"]] == [1, 2], rng
        return "%d entries" % len(inputs)

    def _interrupt(self, code):
        msg_id = self.kc.execute(code)
        # wait until the kernel is busy with it
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                break
        time.sleep(0.3)
        t0 = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.shell_reply(msg_id, timeout=10)
        stopped_after = time.monotonic() - t0
        self.iopub_until_idle(msg_id, timeout=10)
        c = reply["content"]
        assert c["status"] == "error" and c["ename"] == "Interrupted", c
        after, iopub = self.execute("40 + 2", timeout=10)
        assert after["content"]["status"] == "ok", after["content"]
        assert self.of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "42"
        return "stopped %.2f s after interrupt_request; next cell ok" % stopped_after

    def interrupt_sleep(self):
        return self._interrupt("Thread.sleep(60_000);")

    def interrupt_busy_loop(self):
        return self._interrupt("long n = 0;\nwhile (!Thread.interrupted()) n++;")

    def interrupt_device_loop(self):
        if not self.model or not os.path.exists(self.model):
            raise AssertionError("model file missing: %r" % self.model)
        sample = os.path.join(os.path.dirname(self.model), "sample0_in0.npy")
        setup = ('var loopBuild = Kiln.load("%s").build(Executor.aot());\n'
                 'var loopImage = Tensor.load("%s");\n'
                 'var loopDevice = loopBuild.flash(Device.host());\n'
                 'var loopExecutor = loopDevice.executor().setInput("predict_images:0", loopImage);\n'
                 'loopDevice.state()') % (self.model, sample)
        reply, iopub = self.execute(setup, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert self.of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "OPEN", iopub
        reply, iopub = self.execute('var bystander = loopBuild.flash(Device.host());\nbystander.state()', timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]

        def interrupt_after_start(code):
            msg_id = self.kc.execute(code)
            deadline = time.monotonic() + TIMEOUT
            while True:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                    break
            time.sleep(0.5)
            self.km.interrupt_kernel()
            r = self.shell_reply(msg_id, timeout=10)
            self.iopub_until_idle(msg_id, timeout=10)
            return r

        # A cell that touches no session: the interrupt leaves every session open.
        r = interrupt_after_start("Thread.sleep(60_000);")
        assert r["content"]["status"] == "error" and r["content"]["ename"] == "Interrupted", r["content"]
        r, io = self.execute("loopDevice.state() == DeviceSession.State.OPEN && bystander.state() == DeviceSession.State.OPEN",
                             timeout=30)
        assert self.of_type(io, "execute_result")[0]["content"]["data"]["text/plain"] == "true", \
            "an interrupted cell that used no session closed one: %s" % io

        msg_id = self.kc.execute("long loopRuns = 0;\nwhile (loopRuns >= 0) { loopExecutor.run(); loopRuns++; }")
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                break
        time.sleep(0.5)
        t0 = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.shell_reply(msg_id, timeout=10)
        stopped_after = time.monotonic() - t0
        self.iopub_until_idle(msg_id, timeout=10)
        c = reply["content"]
        assert c["status"] == "error" and c["ename"] == "Interrupted", c
        # The hook closed the session, which ended the blocked device call (not a forced thread stop).
        assert "KilnDeviceException" in c["evalue"], c["evalue"]

        def value(code):
            r, io = self.execute(code, timeout=60)
            assert r["content"]["status"] == "ok", (code, r["content"])
            return self.of_type(io, "execute_result")[0]["content"]["data"]["text/plain"]
        assert value("loopRuns > 0") == "true", "the loop never ran"
        assert value("loopDevice.state()") == "CLOSED"
        assert value("bystander.state()") == "OPEN", "a session the interrupted cell did not use was closed"
        assert value('bystander.executor().setInput("predict_images:0", loopImage).run().getOutput(0).argmax()') == "7"
        value("bystander.close(); bystander.state()")
        assert value("ProcessHandle.of(loopDevice.devicePid().getAsLong()).map(ProcessHandle::isAlive).orElse(false)") == "false", \
            "the device process outlived its session"
        answer = value('var again = loopBuild.flash(Device.host());\n'
                       'var answer = again.executor().setInput("predict_images:0", loopImage).run().getOutput(0).argmax();\n'
                       'again.close();\nanswer')
        assert answer == "7", answer
        return "stopped %.2f s after interrupt_request: %s; session closed, the other left open; a new session answers 7" % (
            stopped_after, c["evalue"].splitlines()[0])

    def interrupt_reply(self):
        # interrupt_request straight on the control channel, to see its reply
        msg = self.kc.session.msg("interrupt_request", {})
        self.kc.control_channel.send(msg)
        reply = self.kc.control_channel.get_msg(timeout=TIMEOUT)
        assert not self.valid_reply(reply, "interrupt_reply"), self.valid_reply(reply, "interrupt_reply")

    def silent_and_user_expressions(self):
        before, _ = self.execute("1")
        n = before["content"]["execution_count"]
        reply, iopub = self.execute("int hidden = 5;", silent=True)
        assert not self.of_type(iopub, "execute_input"), iopub
        reply, _ = self.execute("hidden + 1", user_expressions={"answer": "6 * 7", "bad": "nope("})
        c = reply["content"]
        assert c["execution_count"] == n + 1, (n, c)
        ue = c["user_expressions"]
        assert ue["answer"]["status"] == "ok" and ue["answer"]["data"]["text/plain"] == "42", ue
        assert ue["bad"]["status"] == "error", ue

    def comm_info(self):
        msg_id = self.kc.comm_info()
        reply = self.shell_reply(msg_id)
        assert not self.valid_reply(reply, "comm_info_reply"), self.valid_reply(reply, "comm_info_reply")
        assert reply["content"]["comms"] == {}, reply["content"]

    def stdin(self):
        msg_id = self.kc.execute("new Scanner(System.in).nextLine()", allow_stdin=True)
        req = self.kc.get_stdin_msg(timeout=TIMEOUT)
        assert req["msg_type"] == "input_request", req
        self.kc.input("typed text")
        reply = self.shell_reply(msg_id)
        iopub = self.iopub_until_idle(msg_id)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert self.of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "typed text"

    def maven_magic(self):
        reply, iopub = self.execute("%maven org.apiguardian:apiguardian-api:1.1.2\norg.apiguardian.api.API.class.getSimpleName()",
                                    timeout=90)
        assert reply["content"]["status"] == "ok", reply["content"]
        out = "".join(m["content"]["text"] for m in self.of_type(iopub, "stream"))
        assert "added    org.apiguardian:apiguardian-api:1.1.2" in out, out
        assert self.of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "API"
        reply, iopub = self.execute("%maven com.fasterxml.jackson.core:jackson-databind:2.17.2", timeout=90)
        out = "".join(m["content"]["text"] for m in self.of_type(iopub, "stream"))
        assert "kept     com.fasterxml.jackson.core:jackson-databind:" in out, out
        return out.strip()

    def classpath_magic(self):
        reply, iopub = self.execute("%classpath /no/such/dir")
        c = reply["content"]
        assert c["status"] == "error" and "no jar or folder matches" in c["evalue"], c

    def shutdown(self):
        msg = self.kc.session.msg("shutdown_request", {"restart": False})
        self.kc.control_channel.send(msg)
        reply = self.kc.control_channel.get_msg(timeout=TIMEOUT)
        assert not self.valid_reply(reply, "shutdown_reply"), self.valid_reply(reply, "shutdown_reply")
        assert reply["content"]["restart"] is False
        deadline = time.monotonic() + 15
        while self.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not self.km.is_alive(), "kernel process still alive 15 s after shutdown_reply"
        return "process exited"

    def notebook(self):
        import nbformat
        from nbclient import NotebookClient
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": self.kernel_name, "display_name": "Kiln", "language": "java"}
        nb.cells = [nbformat.v4.new_code_cell("var answer = 6 * 7;"),
                    nbformat.v4.new_code_cell('System.out.println("answer is " + answer);'),
                    nbformat.v4.new_code_cell("answer + 1")]
        NotebookClient(nb, timeout=60, kernel_name=self.kernel_name).execute()
        assert nb.cells[0].outputs[0]["data"]["text/plain"] == "42", nb.cells[0].outputs
        assert nb.cells[1].outputs[0]["text"] == "answer is 42\n", nb.cells[1].outputs
        assert nb.cells[2].outputs[0]["data"]["text/plain"] == "43", nb.cells[2].outputs

    def run(self):
        try:
            started = self.start()
            record("kernel starts and answers kernel_info (wait_for_ready)", True, "%.2f s" % started, started)
        except Exception:
            record("kernel starts and answers kernel_info (wait_for_ready)", False, traceback.format_exc())
            return
        try:
            self.check("kernel_info_reply has status ok, implementation and language_info", self.kernel_info)
            self.check("execute shows the last value as execute_result with execution_count", self.execute_result)
            self.check("System.out and System.err arrive as stdout and stderr streams", self.stdout_stderr)
            self.check("an exception is an error with its class, message and cell line only", self.runtime_error)
            self.check("a compile error shows the diagnostic under the offending code", self.compile_error)
            self.check("Kiln.load of the shared model returns a Model", self.kiln_model)
            self.check("a renderer registered for a class gives text/html and image/svg+xml", self.renderer_hook)
            self.check("display and updateDisplay publish display_data and update_display_data", self.display_and_update)
            self.check("complete_reply offers Kiln members with kinds and signatures, magic names, nothing inside a string", self.complete)
            self.check("inspect_reply shows the signature and javadoc first sentence, also for a bare method name and a JDK class", self.inspect)
            self.check("is_complete_reply says complete, incomplete with indent, invalid", self.is_complete)
            self.check("silent cells do not count; user_expressions are evaluated", self.silent_and_user_expressions)
            self.check("history_reply answers tail, search and range", self.history)
            self.check("comm_info_reply has status ok", self.comm_info)
            self.check("stdin: Scanner(System.in) reads from input_request", self.stdin)
            self.check("interrupt stops a cell in Thread.sleep and the next cell works", self.interrupt_sleep)
            self.check("interrupt stops a loop checking Thread.interrupted and the next cell works", self.interrupt_busy_loop)
            self.check("interrupt stops a loop of executor.run(), closes its device session and only it; a new session works",
                       self.interrupt_device_loop)
            self.check("interrupt_reply has status ok", self.interrupt_reply)
            self.check("%classpath of a missing path is an error naming it", self.classpath_magic)
            self.check("%maven adds an artifact and keeps the kernel's own libraries", self.maven_magic)
            self.check("shutdown_reply has status ok and the process exits", self.shutdown)
        finally:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
            if self.km.is_alive():
                self.km.shutdown_kernel(now=True)
        self.check("nbclient executes a three-cell notebook", self.notebook)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--model")
    args = ap.parse_args()
    try:
        Checks(args.kernel, args.model).run()
    finally:
        with open(args.report, "w") as f:
            json.dump(results, f, indent=1)
    failed = [r for r in results if not r["ok"]]
    for r in results:
        print("%s %-80s %6.2fs %s" % ("PASS" if r["ok"] else "FAIL", r["name"], r["seconds"],
                                      "" if r["ok"] else r["detail"][:2000]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
