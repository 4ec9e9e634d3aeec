"use strict";
// The page draws and shows; every prediction comes from 10_web_app.py's JSON API (fetch below).
const $ = (id) => document.getElementById(id);

// POST a body to the API; its JSON answer, or an Error carrying the server's bilingual message.
async function ask(path, body, type) {
  const response = await fetch(path, {method: "POST", body, headers: {"Content-Type": type}});
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error);
  return answer;
}

// Paint the model's input (rows of gray values, or of [r, g, b]) into a small canvas.
function showPixels(canvas, rows) {
  const pen = canvas.getContext("2d"), image = pen.createImageData(rows[0].length, rows.length);
  rows.flat().forEach((value, i) => {
    const [r, g, b] = Array.isArray(value) ? value : [value, value, value];
    image.data.set([r, g, b, 255], i * 4);
  });
  pen.putImageData(image, 0, 0);
}

const percent = (p) => `${(100 * p).toFixed(1)}%`;

// ---- 1. 写数字 / Draw a digit: black ink on a white pad; after each stroke, ask the model
const pad = $("pad"), ink = pad.getContext("2d");
let drawing = false, asked = 0;
function clearPad() {
  ink.fillStyle = "white";
  ink.fillRect(0, 0, pad.width, pad.height);
  $("digit-answer").textContent = "";
}
function at(event) {  // the pointer in the pad's own pixels (the pad may be shown smaller or bigger)
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}
pad.addEventListener("pointerdown", (event) => {  // pointer events: mouse, pen and touch alike
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  Object.assign(ink, {lineWidth: 20, lineCap: "round", lineJoin: "round", strokeStyle: "black"});
  ink.beginPath();
  ink.moveTo(...at(event));
  ink.lineTo(...at(event));
  ink.stroke();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  ink.lineTo(...at(event));
  ink.stroke();
});
for (const end of ["pointerup", "pointercancel"]) {
  pad.addEventListener(end, () => {
    if (!drawing) return;
    drawing = false;
    pad.toBlob((png) => readDigit(png, "image/png"));
  });
}
$("clear").addEventListener("click", clearPad);
$("digit-file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) readDigit(file, file.type || "application/octet-stream");
});

const bars = [...Array(10).keys()].map((digit) => {
  const row = document.createElement("div");
  row.className = "bar";
  row.innerHTML = `<b>${digit}</b><span></span><i></i>`;
  $("bars").append(row);
  return row;
});

async function readDigit(picture, type) {
  const ticket = ++asked;  // strokes come fast: show only the newest answer
  try {
    const answer = await ask("/api/digit", picture, type);
    if (ticket !== asked) return;
    showPixels($("digit-seen"), answer.input);
    answer.probabilities.forEach((p, digit) => {
      bars[digit].classList.toggle("best", digit === answer.digit);
      bars[digit].querySelector("span").style.width = `${Math.round(200 * p)}px`;
      bars[digit].querySelector("i").textContent = percent(p);
    });
    const p = percent(answer.probabilities[answer.digit]);
    $("digit-answer").dataset.digit = answer.digit;
    $("digit-answer").textContent = `模型认为是 ${answer.digit}（${p}）/ the model reads ${answer.digit} (${p}) · ${answer.ms} ms`;
  } catch (error) {
    if (ticket === asked) $("digit-answer").textContent = error.message;
  }
}

// ---- 2. 认图片 / What is in this photo: CIFAR-10's top 3
$("photo-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  $("photo-answer").textContent = "…";
  $("top3").textContent = "";
  try {
    const answer = await ask("/api/photo", file, file.type || "application/octet-stream");
    showPixels($("photo-seen"), answer.input);
    for (const guess of answer.top3) {
      const item = document.createElement("li");
      item.textContent = `${guess.zh} / ${guess.class}：${percent(guess.probability)}`;
      $("top3").append(item);
    }
    $("photo-answer").textContent = `TTA ${answer.tta} · ${answer.ms} ms`;
  } catch (error) {
    $("photo-answer").textContent = error.message;
  }
});

// ---- 3. 写诗 / Write a poem: the form's fields as JSON
$("poem-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const request = {form: Number(form.get("form")), lines: Number(form.get("lines")),
                   temperature: Number(form.get("temperature")), script: form.get("script")};
  for (const name of ["start", "acrostic", "theme"]) {
    if (form.get(name).trim()) request[name] = form.get(name).trim();
  }
  $("poem-answer").textContent = "…";
  try {
    const answer = await ask("/api/poem", JSON.stringify(request), "application/json");
    $("poem-text").textContent = answer.poem;
    $("poem-answer").textContent = `${answer.ms} ms`;
  } catch (error) {
    $("poem-answer").textContent = error.message;
  }
});

// ---- 4. 会员预测 / Membership: a field per feature of the saved model, sent as {"name": number}
function membershipFields(features) {
  $("membership-fields").textContent = "";
  for (const feature of features) {
    const label = document.createElement("label"), input = document.createElement("input");
    const yesNo = feature.integer && feature.min === 0 && feature.max === 1;
    input.name = feature.name;
    if (yesNo) {
      input.type = "checkbox";
      input.checked = feature.median >= 0.5;
    } else {
      Object.assign(input, {type: "number", min: feature.min, max: feature.max, required: true,
                            step: feature.integer ? 1 : "any", value: feature.integer ? Math.round(feature.median) : feature.median});
    }
    label.className = yesNo ? "yes-no" : "";
    label.append(feature.label || feature.name, input);
    $("membership-fields").append(label);
  }
}

$("membership-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const request = {};
  for (const input of $("membership-fields").querySelectorAll("input")) {
    request[input.name] = input.type === "checkbox" ? Number(input.checked) : Number(input.value);
  }
  $("membership-answer").textContent = "…";
  $("membership-classes").textContent = "";
  try {
    const answer = await ask("/api/membership", JSON.stringify(request), "application/json");
    for (const guess of answer.probabilities) {
      const item = document.createElement("li");
      item.textContent = `${guess.class}：${percent(guess.probability)}`;
      $("membership-classes").append(item);
    }
    $("membership-answer").textContent = `→ ${answer.predicted} · ${answer.ms} ms`;
  } catch (error) {
    $("membership-answer").textContent = error.message;
  }
});

// ---- Which parts have a model: a missing one says the command that trains it
async function showStatus() {
  const status = await (await fetch("/api/status")).json();
  for (const part of ["digit", "photo", "poem", "membership"]) {
    const box = $(part), state = status[part] || {ready: false, message: "?"};
    box.classList.toggle("off", !state.ready);
    box.querySelector(".note").textContent = state.ready ? `✓ ${state.about}` : state.message;
  }
  if (status.membership && status.membership.ready) membershipFields(status.membership.features);
}
clearPad();
showStatus();
