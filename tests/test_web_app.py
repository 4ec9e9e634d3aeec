"""10_web_app.py: the real server on a free 127.0.0.1 port, with tiny models trained by 04, 07 and 09
on tiny data; the JSON API (good and bad input), concurrency, a real browser, and clean stops."""
import concurrent.futures
import http.client
import importlib.util
import io
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
from PIL import Image, ImageDraw

from conftest import LIBRARY_NOISE, ROOT, run_script
from test_mnist import _png_header_only
from test_scripts_basic import test_help_answers_without_tensorflow as check_help_without_tensorflow
from test_scripts_basic import test_help_is_bilingual_with_defaults_and_examples as check_help_bilingual

SCRIPT = "10_web_app.py"
BILINGUAL = re.compile(r"[\u4e00-\u9fff].*/ .*[A-Za-z]")  # "中文 … / English …"


def load_bench(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class App:
    """10_web_app.py in the background: its address once the models are loaded, everything it prints."""

    def __init__(self, *flags):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)
        self.process = subprocess.Popen([sys.executable, str(ROOT / SCRIPT), *map(str, flags)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        encoding="utf-8", errors="replace", env=env, cwd=ROOT)
        self.lines, self.errors, started = [], [], queue.Queue()

        def read(stream, into):  # always drained: a full pipe would stall the server
            for line in stream:
                into.append(line)
                if "open http://" in line:
                    started.put(line)
            started.put(None)
        threading.Thread(target=read, args=(self.process.stdout, self.lines), daemon=True).start()
        threading.Thread(target=read, args=(self.process.stderr, self.errors), daemon=True).start()
        try:
            line = started.get(timeout=240)
        except queue.Empty:
            line = None
        if not line:
            self.close()
        assert line, self.output()
        self.url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def output(self):
        return "".join(self.lines) + "".join(self.errors)

    def close(self):
        """Whatever happened in the test: no server left running."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self, signum):
        self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        stderr = "".join(self.errors)
        assert "Traceback" not in stderr and not LIBRARY_NOISE.findall(stderr), stderr[-3000:]
        return code


def call(url, body=None, headers=None):
    """(status, JSON answer) of a GET (no body) or a POST."""
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def picture(kind="seven", size=(280, 280), form="PNG"):
    image = Image.new("RGB", size, "white")
    if kind == "seven":
        ImageDraw.Draw(image).line([(90, 60), (200, 60), (130, 230)], fill="black", width=20)
    elif kind == "photo":  # a red car-ish block on green: any photo will do
        ImageDraw.Draw(image).rectangle([size[0] // 4, size[1] // 3, 3 * size[0] // 4, 2 * size[1] // 3], fill=(200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format=form)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def models(mnist_cnn, cifar_run, poem_model, membership_run):
    """The tiny models 04, 05, 07 and 09 trained once per test run (conftest.py), as 10's flags."""
    return ["--mnist-model", mnist_cnn[1] / "04_mnist_cnn.keras", "--cifar-train-dir", cifar_run[2],
            "--poem-train-dir", poem_model[1], "--membership-model", membership_run[0] / "out" / "05_membership.keras"]


@pytest.fixture(scope="module")
def app(models):
    app = App("--port", 0, *models)
    try:
        yield app
        assert app.stop(signal.SIGTERM) == 143, app.output()[-3000:]  # SIGTERM: a clean stop, exit 143
        assert "已停止 / stopped" in app.output()
    finally:
        app.close()


def test_help_is_bilingual_and_needs_no_tensorflow(tmp_path):
    check_help_without_tensorflow(SCRIPT, tmp_path)
    check_help_bilingual(SCRIPT)


def test_status_page_and_fixed_files(app):
    code, status = call(app.url + "api/status")
    assert code == 200 and all(status[part]["ready"] for part in ("digit", "photo", "poem", "membership")), status
    assert "flip-shift" in status["photo"]["about"]
    with urllib.request.urlopen(app.url, timeout=30) as page:
        html = page.read().decode("utf-8")
        assert "写数字" in html and "Draw a digit" in html and page.headers["Content-Security-Policy"]
    for name in ("app.js", "style.css"):
        with urllib.request.urlopen(app.url + name, timeout=30) as answer:
            assert answer.status == 200
    for path in ("web/index.html", "../10_web_app.py", "%2e%2e/README.md", "api/digit"):  # GET: page files only
        assert call(app.url + path)[0] == 404, path


def test_digit_answers_with_what_the_model_saw(app):
    for body in (picture("seven"), picture("seven", size=(640, 480), form="JPEG")):
        code, answer = call(app.url + "api/digit", body)
        assert code == 200, answer
        probabilities = answer["probabilities"]
        assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 1e-3
        assert answer["digit"] == probabilities.index(max(probabilities))
        seen = answer["input"]
        assert len(seen) == 28 and all(len(row) == 28 for row in seen)
        assert max(map(max, seen)) > 200 and seen[0][0] == 0  # white ink on black, as in MNIST
        assert answer["ms"] < 5000
    assert "POST /api/digit → 200" in app.output()


def test_photo_top3_in_chinese_and_english(app):
    code, answer = call(app.url + "api/photo", picture("photo", size=(640, 480), form="JPEG"))
    assert code == 200, answer
    assert answer["tta"] == "flip-shift" and len(answer["top3"]) == 3
    chances = [guess["probability"] for guess in answer["top3"]]
    assert chances == sorted(chances, reverse=True) and 0 < sum(chances) <= 1.001
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+", guess["zh"]) and guess["class"].isascii() for guess in answer["top3"])
    assert len(answer["input"]) == 32 and len(answer["input"][0]) == 32 and len(answer["input"][0][0]) == 3


def test_poem_in_the_form_asked_for(app):
    code, answer = call(app.url + "api/poem", json.dumps({}).encode())  # the defaults: 5 characters, 4 lines
    assert code == 200, answer
    lines = answer["poem"].splitlines()  # two lines of the poem on each printed line
    assert len(lines) == 2 and all(re.fullmatch(r"[\u4e00-\u9fff]{5}，[\u4e00-\u9fff]{5}。", line) for line in lines)
    request = {"form": 7, "lines": 8, "start": "春", "temperature": 1.2, "script": "traditional"}
    code, answer = call(app.url + "api/poem", json.dumps(request, ensure_ascii=False).encode())
    assert code == 200 and answer["poem"].startswith("春"), answer
    assert len(answer["poem"].splitlines()) == 4 and len(answer["poem"].splitlines()[0]) == 16
    code, answer = call(app.url + "api/poem", json.dumps({"acrostic": "山水花月"}, ensure_ascii=False).encode())
    assert code == 200 and [line[0] for line in re.split("[，。\n]+", answer["poem"]) if line] == list("山水花月")
    code, answer = call(app.url + "api/poem", json.dumps({"start": "風"}, ensure_ascii=False).encode())
    assert code == 200 and answer["poem"].startswith("风"), answer  # simplified by default, either accepted
    themed = [call(app.url + "api/poem", json.dumps({"theme": "秋夜", "acrostic": "春花明"}, ensure_ascii=False).encode())
              for _ in range(4)]
    assert all(code == 200 and [line[0] for line in re.split("[，。\n]+", answer["poem"]) if line] == list("春花明")
               for code, answer in themed), themed
    assert sum("秋" in answer["poem"] or "夜" in answer["poem"] for _, answer in themed) >= 3, themed


def test_membership_from_the_saved_feature_list(app, membership_run):
    """The form's fields come from /api/status; POST /api/membership answers each class's probability,
    the same as 05's model in Keras; a missing, unknown or non-number feature is a 400 naming it."""
    import keras
    import numpy as np
    code, status = call(app.url + "api/status")
    features, classes = status["membership"]["features"], status["membership"]["classes"]
    assert [f["name"] for f in features][:2] == ["hour", "ip1"] and classes == ["非会员", "会员"]
    assert features[0]["label"].startswith("加入的钟点 / hour of joining") and features[0]["max"] == 23
    user = {f["name"]: f["median"] for f in features}
    for vip in (0, 1):
        code, answer = call(app.url + "api/membership", json.dumps({**user, "gift_vip": vip}).encode())
        assert code == 200, answer
        assert [p["class"] for p in answer["probabilities"]] == classes
        chances = [p["probability"] for p in answer["probabilities"]]
        assert abs(sum(chances) - 1) < 1e-3 and answer["predicted"] == classes[chances.index(max(chances))]
        model = keras.models.load_model(membership_run[0] / "out" / "05_membership.keras")
        row = np.array([[{**user, "gift_vip": vip}[f["name"]] for f in features]], np.float32)
        np.testing.assert_allclose(chances, model.predict(row, verbose=0)[0], atol=1e-4)
    for request, named in (({k: v for k, v in user.items() if k != "hour"}, "missing features: hour"),
                           ({**user, "age": 3}, "unknown: age"), ({**user, "ip1": "58"}, "must be numbers: ip1"),
                           ({**user, "share": True}, "must be numbers: share"), ([1, 2], "must be an object"),
                           ({**user, "hour": 1e999}, "must be numbers: hour")):
        code, answer = call(app.url + "api/membership", json.dumps(request).encode())
        assert code == 400 and named in answer["error"] and BILINGUAL.search(answer["error"]), (request, answer)


def test_bad_input_is_a_bilingual_400_and_the_server_goes_on(app, tmp_path):
    _png_header_only(tmp_path / "bomb.png", 20000, 20000)
    cases = {
        "not a picture": ("api/digit", b"just some text", 400, "not an image file"),
        "not a photo": ("api/photo", b"\x89PNG\r\n\x1a\n cut short", 400, "not an image file"),
        "blank canvas": ("api/digit", picture("blank"), 400, "looks blank"),
        "empty body": ("api/digit", b"", 400, "empty"),
        "huge picture": ("api/photo", (tmp_path / "bomb.png").read_bytes(), 400, "too large"),
        "unknown API": ("api/sing", picture("seven"), 404, "no such page"),
        "poem not JSON": ("api/poem", b"form=5", 400, "not JSON"),
        "poem wrong field": ("api/poem", b'{"colour": "red"}', 400, "known fields"),
        "poem wrong form": ("api/poem", b'{"form": 6}', 400, "must be one of [5, 7]"),
        "poem form 5.0": ("api/poem", b'{"form": 5.0}', 400, "must be one of [5, 7]"),
        "poem too hot": ("api/poem", b'{"temperature": 9}', 400, "between 0.1 and 2"),
        "poem two starts": ("api/poem", '{"start": "春天"}'.encode(), 400, "1 to 1 Chinese"),
        "unknown character": ("api/poem", '{"start": "龍"}'.encode(), 400, "not in the model's vocabulary"),
        "theme unseen": ("api/poem", '{"theme": "留"}'.encode(), 400, "the model never saw 留"),
        "theme in English": ("api/poem", b'{"theme": "moon"}', 400, "must be Chinese characters"),
        "theme empty": ("api/poem", b'{"theme": ""}', 400, "needs a word or two"),
        "theme a number": ("api/poem", b'{"theme": 7}', 400, "a word or two"),
    }
    for name, (path, body, expected, words) in cases.items():
        code, answer = call(app.url + path, body)
        assert code == expected and words in answer["error"] and BILINGUAL.search(answer["error"]), (name, answer)

    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    connection.putrequest("POST", "/api/digit")  # 6 MB announced: refused before a byte of it is read
    connection.putheader("Content-Length", str(6 * 1024 * 1024))
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 413 and "5 MB" in json.loads(answer.read())["error"]
    connection.close()
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    connection.putrequest("POST", "/api/digit")  # a chunked body, no Content-Length: refused on the headers
    connection.putheader("Transfer-Encoding", "chunked")  # (the body is not sent: the server answers and
    connection.endheaders()                                # closes first, and sending it could hit a closed socket)
    answer = connection.getresponse()  # no Content-Length: the length must be known in advance
    assert answer.status == 411 and BILINGUAL.search(json.loads(answer.read())["error"])
    connection.close()

    assert call(app.url + "api/digit", picture("seven"))[0] == 200  # still serving
    assert "Traceback" not in app.output()


def test_malformed_json_of_every_kind_is_a_400(app):
    deep = b"[" * 100_000 + b"]" * 100_000  # Python's parser recurses: a RecursionError, not the server's fault
    cases = {
        "nested 100,000 deep": (deep, "not JSON"),
        "nested object": (b'{"form": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001, "not JSON"),
        "huge integer": (b'{"form": ' + b"9" * 5000 + b"}", "not JSON"),
        "huge float": (b'{"temperature": 1e999}', "between 0.1 and 2"),
        "NaN": (b'{"temperature": NaN}', "between 0.1 and 2"),
        "form as text": (b'{"form": "5"}', "must be one of [5, 7]"),
        "start as a number": (b'{"start": 5}', "1 to 1 Chinese"),
        "a list": (b"[1, 2]", "known fields"),
        "not UTF-8": ('{"start": "春"}'.encode("gbk"), "not JSON"),
    }
    for name, (body, words) in cases.items():
        code, answer = call(app.url + "api/poem", body)
        assert code == 400 and words in answer["error"] and BILINGUAL.search(answer["error"]), (name, code, answer)
    assert call(app.url + "api/status")[0] == 200 and "server error" not in app.output()


def test_a_burst_of_64_clients_is_served_without_resets(app):
    """64 clients connect at the same instant (a classroom, a load test): every one gets its answer."""
    body, start = picture("seven"), threading.Barrier(64)

    def one(_):
        start.wait(timeout=60)
        return call(app.url + "api/digit", body)[0]
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        codes = list(pool.map(one, range(64)))
    assert codes == [200] * 64, codes


def raw_request(app, method, path, headers, body=b""):
    """(status, JSON answer) for a request with exactly these headers (Host included)."""
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_other_sites_are_refused_with_403(app):
    """DNS rebinding (a foreign Host) and cross-site requests (a foreign Origin, Sec-Fetch-Site:
    cross-site) must not reach the models; the page's own requests do."""
    ours = f"127.0.0.1:{app.port}"
    body = json.dumps({"start": "春"}, ensure_ascii=False).encode()
    refused = {
        "foreign Host": ("GET", "/api/status", {"Host": f"evil.example:{app.port}"}),
        "foreign Host, page": ("GET", "/", {"Host": "evil.example"}),
        "no Host": ("GET", "/api/status", {}),
        "foreign Origin": ("POST", "/api/poem", {"Host": ours, "Origin": "http://evil.example",
                                                 "Content-Type": "text/plain"}),
        "Origin of another port": ("POST", "/api/poem", {"Host": ours, "Origin": "http://127.0.0.1:1"}),
        "cross-site fetch": ("POST", "/api/poem", {"Host": ours, "Sec-Fetch-Site": "cross-site"}),
    }
    for name, (method, path, headers) in refused.items():
        code, answer = raw_request(app, method, path, headers, body if method == "POST" else b"")
        assert code == 403 and BILINGUAL.search(answer["error"]), (name, code, answer)
        assert "--allow-host" in answer["error"] or "other site" in answer["error"], (name, answer)
    for headers in ({"Host": ours, "Origin": f"http://{ours}", "Sec-Fetch-Site": "same-origin"},  # the page
                    {"Host": f"localhost:{app.port}"}):  # curl, a program of the reader's
        code, answer = raw_request(app, "POST", "/api/poem", headers, body)
        assert code == 200 and answer["poem"].startswith("春"), (headers, code, answer)
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    connection.request("GET", "/", headers={"Host": ours, "Sec-Fetch-Site": "cross-site"})
    assert connection.getresponse().status == 200  # a link from another page opens the page itself
    connection.close()


def test_concurrent_requests_get_their_own_answers(app):
    bodies = [picture("seven"), picture("seven", size=(300, 420)), picture("seven", form="JPEG")] * 8
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda body: call(app.url + "api/digit", body), bodies))
    assert all(code == 200 for code, _ in answers), answers
    for i, (_, answer) in enumerate(answers[3:], 3):  # each picture: the same answer every time
        assert answer["probabilities"] == answers[i % 3][1]["probabilities"]


def test_latency_bench_on_a_tiny_count(app):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "web_app_latency.py"), "--url", app.url,
                             "--count", "12", "--threads", "4", "--burst", "16", "--data-dir", str(ROOT / "no-data-here")],
                            capture_output=True, text=True, encoding="utf-8", timeout=120)  # drawn digits
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"12 个请求 / requests, 4 线程 / threads.*p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms, "
                     r"错误 / errors 0", result.stdout), result.stdout
    assert re.search(r"突发 / burst: 16 个客户端同时连接 / clients at once.*p50 [\d.]+ ms.*错误 / errors 0", result.stdout), result.stdout


@pytest.mark.slow
def test_real_browser_draws_a_digit_and_reads_the_answer(app, tmp_path):
    """Headless Chromium: a mouse stroke on the canvas → the page shows the model's answer."""
    browser = load_bench("web_app_screenshot")
    try:
        driver = browser.open_browser()
    except RuntimeError as missing:  # never skipped: CI installs these (.ci/run)
        pytest.fail(f"{missing}")
    try:
        driver.get(app.url)
        text = browser.draw_seven(driver)
        assert re.search(r"模型认为是 \d（[\d.]+%）/ the model reads \d \([\d.]+%\) · [\d.]+ ms", text), text
        ink = driver.execute_script(  # the 28×28 input the model got is drawn on the page
            "const c = document.getElementById('digit-seen');"
            "return c.getContext('2d').getImageData(0, 0, 28, 28).data.reduce((a, b) => a + b, 0) - 28 * 28 * 255;")
        assert ink > 0
        assert driver.execute_script("return document.querySelectorAll('#bars .bar.best').length") == 1
        (tmp_path / "photo.jpg").write_bytes(picture("photo", size=(320, 240), form="JPEG"))
        top3 = browser.upload_photo(driver, tmp_path / "photo.jpg")
        assert all(re.match(r"[\u4e00-\u9fff]+ / [a-z]+：[\d.]+%", line) for line in top3), top3
        poem = browser.write_poem(driver, "春", theme="秋 夜")
        assert poem.startswith("春") and ("秋" in poem or "夜" in poem), poem
        lines = browser.predict_membership(driver, checked=["gift_vip"])  # only members can claim it
        assert re.fullmatch(r"非会员：[\d.]+%", lines[0]) and re.fullmatch(r"会员：[\d.]+%", lines[1]), lines
        assert re.fullmatch(r"→ (非会员|会员) · [\d.]+ ms", lines[2]), lines
        driver.save_screenshot(str(tmp_path / "web_app.png"))
        assert (tmp_path / "web_app.png").stat().st_size > 10_000
    finally:
        driver.quit()


def test_a_model_of_another_part_switches_that_part_off_with_what_to_do(models):
    """Each part given another part's model or folder: the app starts, /api/status says which file is
    wrong and what to give instead, the part answers 503; never a traceback."""
    given = dict(zip(models[::2], models[1::2]))
    app = App("--port", 0, "--mnist-model", given["--membership-model"], "--membership-model", given["--mnist-model"],
              "--poem-train-dir", given["--cifar-train-dir"], "--cifar-train-dir", given["--poem-train-dir"])
    try:
        code, status = call(app.url + "api/status")
        assert code == 200 and not any(status[part]["ready"] for part in ("digit", "photo", "poem", "membership"))
        assert "is not 04's digit model" in status["digit"]["message"] and "28×28×1 → 10" in status["digit"]["message"]
        assert "is not a train folder of 09" in status["poem"]["message"]
        assert "run 07_cifar10_train.py first" in status["photo"]["message"]  # (09's checkpoints are no 07 run)
        assert "04_mnist_cnn_features.json is missing" in status["membership"]["message"]
        assert all(BILINGUAL.search(status[part]["message"]) for part in status if part in ("digit", "poem", "membership"))
        code, answer = call(app.url + "api/digit", picture("seven"))
        assert code == 503 and "is not 04's digit model" in answer["error"]
    finally:
        app.close()
    assert "Traceback" not in app.output()


def test_missing_models_port_in_use_and_ctrl_c(models, tmp_path):
    (tmp_path / "damaged.keras").write_bytes(b"")
    old_poems = shutil.copytree(models[models.index("--poem-train-dir") + 1], tmp_path / "old_poems")
    (old_poems / "poem_model.keras").unlink()  # a run of 09 from before it wrote this file
    (tmp_path / "05_membership_model.json").write_text('{"weights": {}}', encoding="utf-8")  # an older 05's
    app = App("--port", 0, "--mnist-model", tmp_path / "damaged.keras", "--cifar-train-dir", tmp_path / "none",
              "--poem-train-dir", old_poems, "--allow-host", "my-laptop.local",
              "--membership-model", tmp_path / "05_membership.keras")
    try:
        # --allow-host opens the app to a name on purpose (a laptop's name on the home network)
        assert raw_request(app, "GET", "/api/status", {"Host": f"my-laptop.local:{app.port}"})[0] == 200
        assert raw_request(app, "GET", "/api/status", {"Host": "evil.example"})[0] == 403
        code, status = call(app.url + "api/status")
        assert code == 200 and not status["digit"]["ready"] and "--retrain" in status["digit"]["message"]
        assert not status["poem"]["ready"] and "python 09_poem_rnn.py --generate 1" in status["poem"]["message"]
        assert not status["membership"]["ready"] and "旧版 05" in status["membership"]["message"]
        code, answer = call(app.url + "api/membership", b"{}")
        assert code == 503 and "run python 05_membership.py again" in answer["error"]
        photo = status["photo"]
        assert not photo["ready"] and photo["command"] == "python 07_cifar10_train.py" and "8-15 min" in photo["takes"]
        assert "python 07_cifar10_train.py" in photo["message"] and BILINGUAL.search(photo["message"])
        code, answer = call(app.url + "api/photo", picture("photo"))
        assert code == 503 and "python 07_cifar10_train.py" in answer["error"]
        with urllib.request.urlopen(app.url, timeout=30) as page:  # the page itself still works
            assert page.status == 200

        again = run_script(SCRIPT, "--port", app.port, "--host", "0.0.0.0", "--mnist-model", tmp_path / "none",
                           "--cifar-train-dir", tmp_path / "none", "--poem-train-dir", tmp_path / "none")
        assert again.returncode == 2 and f"port {app.port} is in use" in again.stderr, again.stderr
        assert "Traceback" not in again.stderr
        assert again.stdout.startswith("注意：--host 0.0.0.0") and "other computers on your network" in again.stdout
    finally:
        try:
            assert app.stop(signal.SIGINT) == 130, app.output()[-3000:]  # Ctrl-C: exit 130
        finally:
            app.close()
