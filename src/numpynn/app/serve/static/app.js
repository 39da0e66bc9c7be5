// The `numpynn serve` page: draw on the canvas (mouse, pen or touch through pointer events) or upload a
// photo; after each stroke the image goes to POST /api/predict, which prepares it exactly as
// `numpynn predict` does and answers with the label, every class's probability and the 28x28 it saw.
"use strict";

// MNIST strokes are about 0.136 of the 20-pixel box a digit is scaled into; a digit drawn about 170 px
// tall on this 280 px canvas keeps that ratio with a 23 px pen (the server thickens thinner strokes).
const PEN_WIDTH = 23;

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const photo = document.getElementById("photo");
const hint = document.getElementById("pad-hint");
const labelOut = document.getElementById("label");
const confidence = document.getElementById("confidence");
const seen = document.getElementById("seen");
const bars = document.getElementById("bars");
const errorBox = document.getElementById("error");
const correct = document.getElementById("correct");
const savedNote = document.getElementById("saved");

let classNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
let lastImage = null;      // the Blob the current answer is for: what "Wrong? It is" saves
let inked = false;         // whether the canvas holds any stroke
let requestId = 0;         // answers to older requests than the latest are dropped
let stroke = null;         // {id, x, y} while a pointer is down

// --- drawing -------------------------------------------------------------------------------------

function resetCanvas() {
  ctx.clearRect(0, 0, pad.width, pad.height);  // transparent: the server reads opaque pixels as ink
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = PEN_WIDTH;
  ctx.strokeStyle = "#111";
  ctx.fillStyle = "#111";
  inked = false;
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return {x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height};
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  const p = point(event);
  stroke = {id: event.pointerId, ...p};
  ctx.beginPath();  // a dot, so a tap leaves ink too
  ctx.arc(p.x, p.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
  ctx.fill();
  inked = true;
});

pad.addEventListener("pointermove", (event) => {
  if (!stroke || event.pointerId !== stroke.id) return;
  const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const move of moves.length ? moves : [event]) {
    const p = point(move);
    ctx.beginPath();
    ctx.moveTo(stroke.x, stroke.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    stroke.x = p.x;
    stroke.y = p.y;
  }
});

function endStroke(event) {
  if (!stroke || event.pointerId !== stroke.id) return;
  stroke = null;
  pad.toBlob((blob) => predict(blob), "image/png");
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

// --- asking the server ---------------------------------------------------------------------------

async function post(url, blob) {
  const response = await fetch(url, {method: "POST", headers: {"Content-Type": blob.type || "image/png"}, body: blob});
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    throw new Error(`The server answered ${response.status} without JSON.`);
  }
  if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
  return body;
}

async function predict(blob) {
  const id = ++requestId;
  try {
    const answer = await post("/api/predict", blob);
    if (id !== requestId) return;
    lastImage = blob;
    show(answer);
  } catch (error) {
    if (id !== requestId) return;
    showError(error.message);
  }
}

function show(answer) {
  errorBox.hidden = true;
  labelOut.textContent = answer.class_name;
  const best = answer.probabilities[answer.label];
  confidence.textContent = `${(100 * best.probability).toFixed(1)}% sure`;
  seen.src = answer.preprocessed;
  seen.alt = `The 28 by 28 image the model saw, read as ${answer.class_name}`;
  bars.replaceChildren(...answer.probabilities.map((p) => bar(p, p.label === answer.label)));
  correct.disabled = false;
  savedNote.textContent = "Saves the digit with that label for training on your handwriting.";
}

function bar(p, isBest) {
  const item = document.createElement("li");
  const percent = 100 * p.probability;
  item.className = isBest ? "best" : "";
  item.dataset.label = p.class_name;
  item.innerHTML = '<span class="name"></span><span class="track" aria-hidden="true"><span class="fill"></span></span>'
    + '<span class="pct"></span>';
  item.querySelector(".name").textContent = p.class_name;
  item.querySelector(".fill").style.width = `${percent.toFixed(1)}%`;
  item.querySelector(".pct").textContent = `${percent < 0.1 && percent > 0 ? "<0.1" : percent.toFixed(1)}%`;
  return item;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function resetAnswer() {
  requestId++;
  lastImage = null;
  labelOut.textContent = "?";
  confidence.textContent = "Draw something first.";
  seen.removeAttribute("src");
  seen.alt = "The 28 by 28 image the model saw (none yet)";
  bars.replaceChildren(...classNames.map((name, k) => bar({label: k, class_name: name, probability: 0}, false)));
  errorBox.hidden = true;
  correct.disabled = true;
}

// --- controls ------------------------------------------------------------------------------------

document.getElementById("clear").addEventListener("click", () => {
  resetCanvas();
  photo.hidden = true;
  photo.removeAttribute("src");
  hint.textContent = "Draw one digit, large, in the box. The model answers after each stroke.";
  resetAnswer();
});

document.getElementById("upload").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (!file) return;
  resetCanvas();
  photo.src = URL.createObjectURL(file);
  photo.hidden = false;
  hint.textContent = "Your photo, prepared as MNIST digits were. Press Clear to draw instead.";
  predict(file);
  event.target.value = "";  // choosing the same file again still counts as a change
});

function buildDigitButtons() {
  const holder = document.getElementById("digits");
  holder.replaceChildren(...classNames.map((name, k) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = name;
    button.setAttribute("aria-label", `It is ${name}: save it with this label`);
    button.addEventListener("click", () => save(k, name));
    return button;
  }));
}

async function save(label, name) {
  if (!lastImage) return;
  try {
    const answer = await post(`/api/drawings?label=${label}`, lastImage);
    savedNote.textContent = `Saved as ${name}: ${answer.saved} digit${answer.saved === 1 ? "" : "s"} in ${answer.path}.` +
      ` To teach the model your handwriting, run (${answer.finetune_where}): ${answer.finetune}`;
  } catch (error) {
    showError(error.message);
  }
}

async function loadModel() {
  const info = document.getElementById("model-info");
  try {
    const response = await fetch("/api/model");
    const model = await response.json();
    if (Array.isArray(model.classes)) classNames = model.classes;
    // metrics.csv names held-out rows for what they are: test_acc for a test set, val_acc for --val-split rows.
    const metrics = model.metrics || {};
    const heldOut = typeof metrics.test_acc === "number" ? ["test_acc", "test set"] : ["val_acc", "validation rows"];
    const accuracy = metrics[heldOut[0]];
    // The run folder's name and what the network is ("MLP 784-256-10", "CNN 1x28x28, conv 32,64, then 128-10").
    info.title = `${model.run}/${model.model}`;
    info.textContent = `Model ${model.run} · ${model.network} · `
      + `${model.parameters.toLocaleString("en")} parameters`
      + (typeof accuracy === "number" ? ` · ${(100 * accuracy).toFixed(1)}% on its ${heldOut[1]}` : "");
  } catch (_) {
    info.textContent = "Model details are unavailable.";
  }
  buildDigitButtons();
  resetAnswer();
}

resetCanvas();
buildDigitButtons();
resetAnswer();
loadModel();
