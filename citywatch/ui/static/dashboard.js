// citywatch dashboard: what runs in the browser only (no network beyond this server).

// Sign in through the API, so that the browser holds the HttpOnly session cookie that also
// authenticates snapshots, clips and /api; tells the page the HTTP status.
async function citywatchLogin(userInputId, passwordInputId) {
  const value = (id) => {
    const element = document.getElementById(id); // Quasar puts the id on the <input> itself
    return (element.tagName === "INPUT" ? element : element.querySelector("input")).value;
  };
  const user = value(userInputId);
  const password = value(passwordInputId);
  let status = 0;
  try {
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ username: user, password: password }),
    });
    status = response.status;
  } catch (error) {
    status = 0;
  }
  emitEvent("citywatch_login", status);
}

async function citywatchLogout() {
  await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" });
  window.location.href = "/login";
}

// The alert sound: two short tones made by Web Audio (no sound file to load). Browsers allow
// sound only after the user touched the page; `citywatchEnableSound` is bound to the sound button.
let citywatchAudio = null;
function citywatchEnableSound() {
  citywatchAudio = citywatchAudio || new AudioContext();
  return citywatchAudio.resume();
}
async function citywatchSoundButton(buttonId, onLabel) {
  await citywatchEnableSound();
  const label = document.querySelector(`#${buttonId} .block`);
  if (label) label.textContent = onLabel;
  const icon = document.querySelector(`#${buttonId} i`);
  if (icon) icon.textContent = "volume_up";
}
function citywatchSoundEnabled() {
  return citywatchAudio !== null && citywatchAudio.state === "running";
}
function citywatchAlert() {
  document.body.classList.remove("cw-flash");
  void document.body.offsetWidth; // restart the animation
  document.body.classList.add("cw-flash");
  window.citywatchAlerts = (window.citywatchAlerts || 0) + 1;
  if (!citywatchSoundEnabled()) return;
  const now = citywatchAudio.currentTime;
  [880, 660, 880].forEach((frequency, i) => {
    const oscillator = citywatchAudio.createOscillator();
    const gain = citywatchAudio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.25 + 0.22);
    oscillator.connect(gain).connect(citywatchAudio.destination);
    oscillator.start(now + i * 0.25);
    oscillator.stop(now + i * 0.25 + 0.23);
  });
}

// The camera wall: reload every camera picture (img[data-frame]) every 5 s, in the browser only.
// A picture that failed (404: a camera not seen yet) is asked for again once a minute, not every 5 s
// (47 such cameras made 7 requests a second of 404s).
const CITYWATCH_FRAME_RETRY_MS = 60000;
document.addEventListener(
  "error",
  (event) => {
    const image = event.target;
    if (image instanceof HTMLImageElement && image.dataset.frame) {
      image.dataset.retryAt = Date.now() + CITYWATCH_FRAME_RETRY_MS;
    }
  },
  true, // image errors do not bubble: caught on the way down
);
setInterval(() => {
  const now = Date.now();
  document.querySelectorAll("img[data-frame]").forEach((image) => {
    if (Number(image.dataset.retryAt || 0) > now) return;
    image.src = `${image.dataset.frame}?t=${now}`;
  });
}, 5000);
