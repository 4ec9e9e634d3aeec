"""10 · 网页应用 / The trained models in a local web page: draw a digit, name a photo, write a poem

What it shows
  How an application uses a model: this small server loads what 04, 05, 07 and 09 trained, once,
  and answers a JSON API; the page (web/index.html, web/app.js) only sends what you draw or
  upload and shows the answer. Everything runs on this computer; the page needs no internet.
  A part whose model is not trained yet says which command trains it; the rest works.
    POST /api/digit   a PNG/JPG → the 28×28 picture the model saw, ten probabilities (04's model)
    POST /api/photo   a PNG/JPG → CIFAR-10's top 3 in Chinese and English (07's model, 08's TTA)
    POST /api/poem    {"form": 5, "lines": 4, "start": "春", "theme": "秋夜 思乡", ...} → a poem (09's model)
    POST /api/membership  {"hour": 21, "ip1": 58, ...} → each class's probability (05's model)
    GET  /api/status  which models are loaded; for a missing one, the command that trains it

Run / 运行
  python 10_web_app.py                      启动，再用浏览器打开 http://127.0.0.1:8000/
                                            start it, then open http://127.0.0.1:8000/ in a browser
  python 10_web_app.py --port 8080          换一个端口 / another port
  curl --data-binary @my_digit.png http://127.0.0.1:8000/api/digit
                                            不用网页，直接调用 API / the API without the page

Expected / 预期结果
  写一个数字：马上看到模型看到的 28×28 图和十个概率（2 核 CPU 上每次远少于 100 毫秒）
  draw a digit: at once the 28×28 picture the model saw and its ten probabilities (well under 100 ms)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import errno
import functools
import http.server
import io
import json
import signal
import socket
import sys
import threading
import time
from pathlib import Path

parser = common.make_parser(__doc__)
parser.add_argument("--host", default="127.0.0.1",
                    help="监听的地址：127.0.0.1 只有本机能打开，0.0.0.0 局域网里的电脑也能 / address to listen "
                         "on: 127.0.0.1 is this computer only, 0.0.0.0 opens it to your network")
parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                    help="也接受以这个名字打开的请求，可写多次（如局域网里电脑的名字）；--host 0.0.0.0 时接受任何名字 / "
                         "also answer requests made to this name, may be repeated (e.g. this computer's name on "
                         "your network); with --host 0.0.0.0 any name is accepted")
parser.add_argument("--port", type=common.nonnegative_int, default=8000, help="端口（0：任选一个空闲的）/ port (0: any free one)")
parser.add_argument("--mnist-model", type=Path, help="04 保存的模型（默认 outputs/04_mnist_cnn.keras）/ "
                                                     "the model 04 saved (default: outputs/04_mnist_cnn.keras)")
parser.add_argument("--cifar-train-dir", type=Path, help="07 的 --train-dir（默认 outputs/cifar10_train）/ "
                                                         "the --train-dir of 07 (default: outputs/cifar10_train)")
parser.add_argument("--poem-train-dir", type=Path, help="09 的 --train-dir（默认 outputs/poem_rnn）/ "
                                                        "the --train-dir of 09 (default: outputs/poem_rnn)")
parser.add_argument("--membership-model", type=Path, help="05 保存的模型（默认 outputs/05_membership.keras；"
                    "--csv 训练的也行）/ the model 05 saved (default: outputs/05_membership.keras; one trained with --csv too)")
parser.add_argument("--tta", choices=["none", "flip", "flip-shift"], default="flip-shift",
                    help="照片的测试时增强，同 08：1、2 或 6 个视角 / photos' test-time augmentation, as 08: 1, 2 or 6 views")
args = common.parse_args(parser)
if args.port > 65535:
    parser.error(f"--port {args.port}: 端口在 0 到 65535 之间 / a port is 0..65535")
if args.host not in ("127.0.0.1", "localhost"):
    print(f"注意：--host {args.host} 让网络上的其他电脑也能打开这个页面 / "
          f"warning: --host {args.host} lets other computers on your network open this page", flush=True)
OUTPUTS = common.SCRIPTS_DIR / "outputs"
# The names a request's Host may give: another name means a page of another site resolved its own
# name to this computer (DNS rebinding). --host 0.0.0.0 / :: opens the app to any name on purpose.
ANY_HOST = args.host in ("0.0.0.0", "::", "")
ALLOWED_HOSTS = {"127.0.0.1", "localhost", "[::1]", args.host.lower(), *(name.lower() for name in args.allow_host)}

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

import common.layers  # noqa: E402,F401  (registers the layers saved models refer to: an older 04's SpaceToDepth)
from common import fail, load_keras_model  # noqa: E402
from common.cifar10_model import CLASSES_ZH, average_over_views, read_network, restore, scaled_as_trained  # noqa: E402
from common.digits import open_picture, prepare_digit  # noqa: E402
from common.membership import load_model as load_membership_model  # noqa: E402
from common.lessons import from_script  # noqa: E402
from common.poem_writer import load_exported_model, show, start_characters, write_on_theme, write_poems  # noqa: E402
from common.poems import MAX_THEME_CHARACTERS, load_related, theme_characters, to_simplified_converter  # noqa: E402

# 09's way of choosing the next character (temperature, top-k), taken from 09 itself: one copy.
choose_character, theme_bonus = from_script("09_poem_rnn.py", "choose_character", "theme_bonus", np=np)


# %% 1. 读取模型 / Load the models: each once, at start; a missing one switches its part off
# Each part, the command that trains its model, and how long that takes on a 2-core CPU.
PARTS = {"digit": ("04 数字 / digit model", "python 04_mnist_cnn.py", "约 1–2 分钟", "1-2 min"),
         "photo": (f"07 图片 / photo model（TTA {args.tta}）", "python 07_cifar10_train.py", "约 8–15 分钟（支持 bf16 的 2 核 CPU）", "8-15 min on 2 cores with bf16"),
         "poem": ("09 写诗 / poem model", "python 09_poem_rnn.py", "约 14 分钟", "about 14 min"),
         "membership": ("05 会员预测 / membership model", "python 05_membership.py", "约 10 秒", "about 10 s")}


def load_digit_model(path):
    """04's network (28×28×1 in [0, 1] → ten logits) as a tf.function, or None before 04 has run."""
    if not path.is_file():
        return None
    network = load_keras_model(path, "用 python 04_mnist_cnn.py --retrain 重新训练 / train it again with python 04_mnist_cnn.py --retrain")
    if tuple(network.input_shape[1:]) != (28, 28, 1) or network.output_shape[-1] != 10:  # another model
        fail(f"{path} 不是 04 的数字模型（输入 {network.input_shape[1:]}，输出 {network.output_shape[-1]} 个数；"
             f"这一部分要 28×28×1 → 10），请用 04 保存的 04_mnist_cnn.keras / is not 04's digit model (it takes {network.input_shape[1:]} and answers "
             f"{network.output_shape[-1]} numbers; this part needs 28×28×1 → 10): use the 04_mnist_cnn.keras that 04 saved")
    # tf.function: the network as one TensorFlow graph, a call many times faster than layer by layer.
    model = tf.function(network)
    model(np.zeros((1, 28, 28, 1), np.float32))  # the first call builds the graph: now, not on a visitor's time
    return model


def load_photo_model(train_dir):
    """07's network with its newest checkpoint's weights, as a tf.function; None before 07 has saved one."""
    checkpoint = tf.train.latest_checkpoint(str(train_dir))
    if checkpoint is None:
        return None
    network = read_network(train_dir)
    step, minutes = restore(network, checkpoint)  # every weight, checked (common/cifar10_model.py)
    print(f"  07：第 {step} 步，训练了 {minutes:.1f} 分钟 / step {step}, {minutes:.1f} min of training")
    model = tf.function(network)
    model(scaled_as_trained(train_dir, np.zeros((1, 32, 32, 3), np.float32)))  # (older runs: their scaling read)
    return model


def load_poem_writer(train_dir):
    """09's network (poem_model.keras: 09 writes it when it stops), vocabulary, settings, the
    traditional → simplified converter and the table for themes (None from a run before --theme);
    None before 09 has run."""
    loaded = load_exported_model(train_dir)
    if loaded is None and tf.train.latest_checkpoint(str(train_dir)) and not (train_dir / "config.json").is_file():
        fail(f"{train_dir} 不是 09 的训练文件夹（没有 config.json），请把 --poem-train-dir 指向 09 训练用的 --train-dir"
             f"（默认 outputs/poem_rnn）/ is not a train folder of 09 (no config.json): "
             f"give --poem-train-dir the --train-dir that 09 trained in (default outputs/poem_rnn)")
    if loaded is None and tf.train.latest_checkpoint(str(train_dir)):  # trained before 09 wrote that file
        fail(f"{train_dir} 里还没有 poem_model.keras / no poem_model.keras in {train_dir} yet: run "
             f"python 09_poem_rnn.py --generate 1 --train-dir {train_dir} once, it writes the file")
    if loaded is None:
        return None
    network, vocab, config = loaded
    # One graph for every length of text so far (reduce_retracing): layer by layer, a poem takes seconds.
    model = tf.function(network, reduce_retracing=True)
    write_poems(model, vocab, 1, functools.partial(choose_character, rng=np.random.default_rng()),
                free=config["corpus"] != "tang", max_len=8)  # a first poem builds the graphs
    return model, vocab, config, to_simplified_converter(), load_related(train_dir, vocab)


def load_membership(path):
    """05's model (normalization inside) and its feature list; None before 05 has run. A model
    saved by an older 05 (weights in a JSON) switches the part off with what to do."""
    if not (path.exists() or path.with_name("05_membership_model.json").exists()):
        return None
    return load_membership_model(path)


def load(part, loader, where):
    """(the part's model or None, what /api/status says about it)."""
    title, command, zh, en = PARTS[part]
    why = f"还没有训练好的模型：先运行 {command}（{zh}），再重启本程序 / no trained model yet: run {command} ({en}), then restart this app"
    try:
        model = loader(where)
    except common.UserError as error:  # damaged files: the part is off, the message says what to do
        model, why = None, str(error)
    print(f"  {title}: " + ("已就绪 / ready" if model is not None else why), flush=True)
    if model is None:
        return None, {"ready": False, "message": why, "command": command, "takes": f"{zh} / {en}"}
    return model, {"ready": True, "about": title}


STATUS = {}  # what GET /api/status answers
digit_model, STATUS["digit"] = load("digit", load_digit_model, args.mnist_model or OUTPUTS / "04_mnist_cnn.keras")
cifar_train_dir = args.cifar_train_dir or OUTPUTS / "cifar10_train"
photo_model, STATUS["photo"] = load("photo", load_photo_model, cifar_train_dir)
poem_writer, STATUS["poem"] = load("poem", load_poem_writer, args.poem_train_dir or OUTPUTS / "poem_rnn")
membership_path = args.membership_model or OUTPUTS / "05_membership.keras"
membership, STATUS["membership"] = load("membership", load_membership, membership_path)
if membership is not None:  # the page builds its form from these: names, ranges, classes
    STATUS["membership"].update(features=membership[1]["features"], classes=membership[1]["classes"])


# %% 2. 页面发来的东西 / What the page sends: a picture's bytes, or a small JSON form.
#    Anything else is a ValueError whose message the page shows (HTTP 400).
def read_digit(body):
    """Any picture of one digit → 28×28 in [0, 1], the way MNIST was made (common/digits.py)."""
    return prepare_digit(io.BytesIO(body))


def read_photo(body):
    """Any photo → what a CIFAR-10 network sees: its centre square, shrunk to 32×32 RGB (0-255),
    like CIFAR-10's own small pictures with the object in the middle."""
    picture = open_picture(io.BytesIO(body), "RGB")
    return np.asarray(ImageOps.fit(picture, (32, 32), Image.LANCZOS), dtype=np.float32)


POEM_FORM = {"form": 5, "lines": 4, "start": None, "acrostic": None, "theme": None, "temperature": 0.8,
             "script": "simplified"}
POEM_CHOICES = {"form": [5, 7], "lines": [4, 8], "script": ["simplified", "traditional"]}


def read_poem_request(body):
    """{"form": 5|7, "lines": 4|8, "start": "春" or "acrostic": "春夏秋冬", "theme": "秋夜 思乡",
    "temperature": 0.1-2, "script": "simplified"|"traditional"}; a field left out keeps its value in
    POEM_FORM. (Which characters a theme may have is theme_characters' to say, in write_poem.)"""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, a 5,000-digit number, [[[[…]]]] nested 100,000 deep
        raise ValueError("请求不是 JSON / the request is not JSON") from None
    if not isinstance(request, dict) or set(request) - set(POEM_FORM):
        raise ValueError(f"只认识这些字段 / the known fields are: {', '.join(POEM_FORM)}")
    request = {**POEM_FORM, **request}
    for name, choices in POEM_CHOICES.items():  # (type too: 5.0 or true are not 5)
        if type(request[name]) is not type(choices[0]) or request[name] not in choices:
            raise ValueError(f"{name} 只能是 / must be one of {choices}")
    if type(request["temperature"]) not in (int, float) or not 0.1 <= request["temperature"] <= 2:
        raise ValueError("temperature 应在 0.1 和 2 之间 / must be between 0.1 and 2")
    for name, most in (("start", 1), ("acrostic", 8)):
        text = request[name]
        if text is not None and not (isinstance(text, str) and 0 < len(text) <= most and text.isalpha()):
            raise ValueError(f"{name} 应为 1 到 {most} 个汉字 / must be 1 to {most} Chinese characters")
    theme = request["theme"]
    if theme is not None and not (isinstance(theme, str) and len(theme) <= 4 * MAX_THEME_CHARACTERS):
        raise ValueError(f"theme 应为一两个词，最多 {MAX_THEME_CHARACTERS} 个汉字 / must be a word or two, at most "
                         f"{MAX_THEME_CHARACTERS} Chinese characters")
    return request


def read_membership_request(features, body):
    """{"feature name": number, ...} with every feature the model was trained on → one row, in order."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("请求不是 JSON / the request is not JSON") from None
    names = [feature["name"] for feature in features]
    if not isinstance(request, dict):
        raise ValueError(f"请求应是一个对象 / the request must be an object: {{{', '.join(names)}}}")
    missing, unknown = [n for n in names if n not in request], [n for n in request if n not in names]
    if missing or unknown:
        raise ValueError(f"缺少特征 / missing features: {', '.join(missing) or '-'}; 不认识的 / unknown: "
                         f"{', '.join(unknown) or '-'} (the model takes: {', '.join(names)})")
    bad = [n for n in names if type(request[n]) not in (int, float) or not np.isfinite(request[n])]
    if bad:
        raise ValueError(f"这些特征要是数字 / these features must be numbers: {', '.join(bad)}")
    return np.array([[request[n] for n in names]], np.float32)


# %% 3. 预测 / Predict: the model's answer (one call at a time per model: requests come on many threads)
def predict_digit(model, lock, digit):
    with lock:
        logits = model(digit[None, :, :, None])  # a batch of one
    probabilities = tf.nn.softmax(logits)[0].numpy()
    return {"digit": int(probabilities.argmax()), "probabilities": [round(float(p), 4) for p in probabilities],
            "input": np.round(digit * 255).astype(int).tolist()}  # 28 rows of 28 gray values: what it saw


def predict_photo(model, lock, pixels, train_dir, tta):
    x = scaled_as_trained(train_dir, pixels[None])
    with lock:  # the image, mirrored, moved by a pixel: 08's views, their probabilities averaged
        probabilities = average_over_views(model, x, tta)[0]
    top3 = probabilities.argsort()[::-1][:3]
    return {"top3": [{"class": common.CIFAR10_CLASSES[i], "zh": CLASSES_ZH[common.CIFAR10_CLASSES[i]],
                      "probability": round(float(probabilities[i]), 4)} for i in top3],
            "input": pixels.astype(int).tolist(), "tta": tta}  # 32 rows of 32 RGB pixels


def predict_membership(loaded, lock, row):
    model, info = loaded
    with lock:
        probabilities = model(row)[0].numpy()  # the normalization is inside the model (05)
    return {"predicted": info["classes"][int(probabilities.argmax())],
            "probabilities": [{"class": c, "probability": round(float(p), 4)} for c, p in zip(info["classes"], probabilities)]}


def write_poem(writer, lock, request):
    """One poem, drawn anew each time; the form's rules are common/poem_writer.py's, as in 09 --generate."""
    model, vocab, config, to_simplified, related = writer
    free = config["corpus"] != "tang"  # a --corpus model writes free text, until its end marker
    # An unknown first character or theme: common.UserError, answered like a ValueError (400).
    starts = start_characters(vocab, request["start"], request["acrostic"], request["lines"], to_simplified)
    rng = np.random.default_rng()
    choose = functools.partial(choose_character, rng=rng, temperature=request["temperature"])
    form = dict(form=request["form"], starts=starts, lines=len(starts) if request["acrostic"] else request["lines"])
    if request["theme"] is not None:  # as 09 --theme: drafts nudged by 09's theme_bonus, the best kept
        if free or related is None:
            fail("这个模型不能按主题写：主题只用于唐诗模型，且要有 related.npz（运行一次 python 09_poem_rnn.py --generate 1 "
                 "--theme 春 即可写出）/ this model cannot write on a theme: themes need the Tang poems model and its "
                 "related.npz (python 09_poem_rnn.py --generate 1 --theme 春 writes it once)")
        theme = theme_characters([request["theme"]], vocab, to_simplified)
        with lock:
            poem = write_on_theme(model, vocab, 1, choose, theme, related, theme_bonus, rng, **form)[0][0]
    else:
        with lock:
            poem = write_poems(model, vocab, 1, choose, free=free, **form)[0]
    poem = to_simplified(poem) if request["script"] == "simplified" else poem  # the model writes as it read
    return {"poem": poem if free else show(poem)}


# %% 4. 回答 / Answer: the JSON API, and the page's three files (fixed names: no path from the client)
def ready(predict, model, **settings):
    """The part's answer function, or None (HTTP 503) where its model is missing."""
    return None if model is None else functools.partial(predict, model, threading.Lock(), **settings)


ANSWERS = {  # address → (what the page sends → the model's input, that input → the answer)
    "/api/digit": ("digit", read_digit, ready(predict_digit, digit_model)),
    "/api/photo": ("photo", read_photo, ready(predict_photo, photo_model, train_dir=cifar_train_dir, tta=args.tta)),
    "/api/poem": ("poem", read_poem_request, ready(write_poem, poem_writer)),
    "/api/membership": ("membership", functools.partial(read_membership_request, membership and membership[1]["features"]),
                        ready(predict_membership, membership)),
}
PAGE = {f"/{name}": ((common.SCRIPTS_DIR / "web" / name).read_bytes(), kind) for name, kind in
        [("index.html", "text/html"), ("app.js", "text/javascript"), ("style.css", "text/css")]}
PAGE["/"] = PAGE["/index.html"]
MAX_BODY = 5 * 1024 * 1024  # a phone photo fits; anything bigger is refused before it is read (413)


def other_site(headers, path):
    """Why a request must be refused (HTTP 403), or None. Browsers let any web page the reader visits
    send requests to 127.0.0.1: the Host and the Origin show where they really come from."""
    host = (headers.get("Host") or "").strip().lower()
    name = host.split("]")[0] + "]" if host.startswith("[") else host.split(":")[0]  # without the port
    if not ANY_HOST and name not in ALLOWED_HOSTS:
        return (f"这个地址不是本程序的名字 / '{host or '(no Host)'}' is not a name of this app (another site "
                f"pointing its name at this computer?): open http://127.0.0.1:{port}/, or start the app with "
                f"--allow-host NAME")
    origin, fetch_site = headers.get("Origin"), headers.get("Sec-Fetch-Site")
    if path.startswith("/api/") and ((origin is not None and origin.lower() != f"http://{host}")
                                     or fetch_site == "cross-site"):
        return (f"另一个网站的请求，已拒绝 / a request from another site ({origin or fetch_site}) is refused: "
                f"only this app's own page may call the API")
    return None


class Handler(http.server.BaseHTTPRequestHandler):  # HTTP/1.0: one request per connection
    timeout = 30  # seconds a client may take to send its request; a stalled one frees its thread

    def do_GET(self):
        path = self.path.partition("?")[0]
        refused = other_site(self.headers, path)
        if refused:
            return self.send_json(403, {"error": refused})
        if path in PAGE:
            return self.send(200, *PAGE[path])
        self.send_json(*((200, STATUS) if path == "/api/status" else (404, {"error": "没有这个地址 / no such page"})))

    def do_POST(self):
        started, path = time.perf_counter(), self.path.partition("?")[0]
        refused = other_site(self.headers, path)
        code, answer = (403, {"error": refused}) if refused else self.answer(path)
        answer["ms"] = round((time.perf_counter() - started) * 1000, 1)  # the page shows it
        self.send_json(code, answer)
        print(f"{time.strftime('%H:%M:%S')} POST {path} → {code}（{answer['ms']} ms）", flush=True)

    def answer(self, path):
        """(HTTP status, JSON answer): whatever the client sent, never an exception."""
        if path not in ANSWERS:
            return 404, {"error": "没有这个地址 / no such page"}
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return 411, {"error": "请求要写明长度 / the request must say its length (Content-Length)"}
        if int(length) > MAX_BODY:
            return 413, {"error": "太大了：最多 5 MB，请把图片缩小 / too large: at most 5 MB, shrink the picture"}
        body = self.rfile.read(int(length))
        part, read, predict = ANSWERS[path]
        if predict is None:
            return 503, {"error": STATUS[part]["message"]}
        if not body:
            return 400, {"error": "请求是空的 / the request is empty"}
        try:
            return 200, predict(read(body))
        except (ValueError, common.UserError) as error:  # not a picture, a blank canvas, a wrong field, ...
            return 400, {"error": str(error)}
        except Exception as error:  # our fault, not the client's: one line here, and the server goes on
            print(f"错误 / error: {path}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            return 500, {"error": "服务器出错，详情见终端 / server error, see the terminal"}

    def send_json(self, code, answer):
        self.send(code, json.dumps(answer, ensure_ascii=False).encode("utf-8"), "application/json")

    def send(self, code, body, kind):
        self.send_response(code)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", "default-src 'self'")  # the page runs no other site's code
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass  # do_POST prints one line per answer instead


# %% 5. 启动 / Start: listen (a port in use: exit 2), serve until Ctrl-C (exit 130) or SIGTERM (143)
class Server(http.server.ThreadingHTTPServer):
    """A thread per connection, at most 64 at once; up to 256 more wait in the listening queue
    (Python's default of 5 resets a classroom's worth of clients arriving together)."""
    request_queue_size = 256
    daemon_threads = True
    busy = threading.BoundedSemaphore(64)

    def process_request(self, request, client_address):
        self.busy.acquire()  # the 65th waits here; the queue holds the rest
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.busy.release()


try:
    server = Server((args.host, args.port), Handler)
except OSError as error:
    if error.errno == errno.EADDRINUSE:
        fail(f"端口 {args.port} 已被占用（这个程序已经在运行？）/ port {args.port} is in use (is this app "
             f"running already?): stop the other program, or use another port, e.g. --port {args.port + 1}")
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        fail(f"--host {args.host}: 不是本机的地址 / not an address of this computer ({error})")
    raise
# A client that hangs up or stalls mid-request: one line, no traceback, and the server goes on.
server.handle_error = lambda request, address: print(
    f"连接中断 / connection from {address[0]} dropped: {sys.exc_info()[1]!r}", file=sys.stderr, flush=True)
host, port = server.server_address[:2]
print(f"打开 / open http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/  （Ctrl-C 停止 / to stop）", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill`, an IDE's stop button: like Ctrl-C
try:
    server.serve_forever()
except KeyboardInterrupt:
    raise SystemExit(130)
finally:  # (after SIGTERM's SystemExit(143) too)
    server.server_close()
    print("已停止 / stopped")
