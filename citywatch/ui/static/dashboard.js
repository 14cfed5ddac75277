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
  citywatchForgetAlarms();
  window.location.href = "/login";
}

// ---- The alarm layer of every logged-in page (citywatch/ui/components/alarms.py) ----
// The page calls citywatchInit(config) while it loads, then citywatchAlarms(update) for every
// batch of new incidents and operator actions. The banners live outside NiceGUI's #app, in this
// tab's sessionStorage, so that a stack of alarms follows the operator from page to page.

const citywatch = {
  page: null, // the page's config: user, lang, sound, mediumS, labels, newIds, session
  alarms: [], // {id, severity, title, what, time, url, expiresAt (ms, medium only)}, newest first
  expanded: false,
  audio: null,
  soundWanted: false,
  runningBeforeGesture: false,
  sessionEndsAt: null,
};
const CITYWATCH_SHOWN = 3; // banners shown before "+N more"
window.citywatchAlerts = 0; // alarms shown on this page (tests and benchmarks/alarm_latency.py read it)
window.citywatchAlarmShownAt = {}; // incident id -> Date.now() when its banner was drawn
window.citywatchSoundsPlayed = []; // severities of the alarm sounds played on this page

function citywatchInit(page) {
  citywatch.page = page;
  citywatch.soundWanted = page.sound;
  citywatch.alarms = citywatchStoredAlarms().filter(
    (alarm) => window.location.pathname !== alarm.url && (page.newIds === null || page.newIds.includes(alarm.id)),
  );
  citywatchStoreAlarms();
  if (page.session) {
    citywatch.sessionEndsAt = Date.now() + page.session.expiresInMs;
    const warnAt = citywatch.sessionEndsAt - page.session.warnBeforeMs;
    const check = () => document.body.classList.toggle("cw-session-ending", Date.now() >= warnAt);
    check();
    setInterval(check, 1000);
  }
  if (citywatch.soundWanted) citywatchAudioContext();
  // Browsers play sound only after a click or key press on the page: the first one resumes it.
  for (const type of ["pointerdown", "keydown"]) {
    window.addEventListener(type, citywatchGesture, { capture: true });
  }
  setInterval(citywatchExpireAlarms, 1000);
  const ready = () => {
    citywatchRenderAlarms();
    citywatchWatchConnection();
    citywatchReportAudio();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
}

function citywatchStorageKey() {
  return `citywatch.alarms.${citywatch.page ? citywatch.page.user : ""}`;
}
function citywatchStoredAlarms() {
  try {
    return JSON.parse(sessionStorage.getItem(citywatchStorageKey()) || "[]");
  } catch (error) {
    return [];
  }
}
function citywatchStoreAlarms() {
  try {
    sessionStorage.setItem(citywatchStorageKey(), JSON.stringify(citywatch.alarms));
  } catch (error) {
    // storage full or off: the banners still show on this page
  }
}
function citywatchForgetAlarms() {
  try {
    for (const key of Object.keys(sessionStorage)) if (key.startsWith("citywatch.alarms.")) sessionStorage.removeItem(key);
  } catch (error) {}
}

// A batch from the server: new alarms, and incidents someone acted on (whose alarms are done).
// (The ids of the incidents still new, when they fit in one query, come with the page: a stack
// kept from the page before loses the ones acted on in between.)
function citywatchAlarms(update) {
  const handled = new Set(update.handled || []);
  const known = new Set(citywatch.alarms.map((alarm) => alarm.id));
  const arrived = (update.alarms || []).filter((alarm) => !known.has(alarm.id) && !handled.has(alarm.id));
  const now = Date.now();
  for (const alarm of arrived) {
    if (alarm.severity !== "high") alarm.expiresAt = now + citywatch.page.mediumS * 1000;
  }
  citywatch.alarms = [...arrived.reverse(), ...citywatch.alarms].filter((alarm) => !handled.has(alarm.id));
  citywatchStoreAlarms();
  citywatchRenderAlarms();
  for (const alarm of arrived) window.citywatchAlarmShownAt[alarm.id] = now;
  window.citywatchAlerts += arrived.length;
  if (arrived.some((alarm) => alarm.severity === "high")) {
    citywatchFlash();
    citywatchPlay("high");
  } else if (arrived.length) {
    citywatchPlay("medium");
  }
}

function citywatchExpireAlarms() {
  const now = Date.now();
  const kept = citywatch.alarms.filter((alarm) => !alarm.expiresAt || alarm.expiresAt > now);
  if (kept.length === citywatch.alarms.length) return;
  citywatch.alarms = kept;
  citywatchStoreAlarms();
  citywatchRenderAlarms();
}

function citywatchRemoveAlarm(id) {
  citywatch.alarms = citywatch.alarms.filter((alarm) => alarm.id !== id);
  citywatchStoreAlarms();
  citywatchRenderAlarms();
}

function citywatchOpenAlarm(alarm) {
  citywatchRemoveAlarm(alarm.id);
  window.location.href = alarm.url;
}

// High ones first, then the newest: the first CITYWATCH_SHOWN, or all of them once expanded.
function citywatchRenderAlarms() {
  if (!citywatch.page || !document.body) return;
  let stack = document.getElementById("cw-alarms");
  if (!stack) {
    stack = document.createElement("div");
    stack.id = "cw-alarms";
    stack.dataset.test = "alarms";
    stack.setAttribute("role", "alert");
    stack.setAttribute("aria-live", "assertive");
    document.body.appendChild(stack);
  }
  const labels = citywatch.page.labels;
  const ordered = [...citywatch.alarms].sort(
    (a, b) => (a.severity === "high" ? 0 : 1) - (b.severity === "high" ? 0 : 1),
  );
  if (ordered.length <= CITYWATCH_SHOWN) citywatch.expanded = false;
  const shown = citywatch.expanded ? ordered : ordered.slice(0, CITYWATCH_SHOWN);
  stack.replaceChildren();
  stack.classList.toggle("cw-alarms-expanded", citywatch.expanded);
  stack.dataset.count = String(ordered.length);
  for (const alarm of shown) {
    const banner = document.createElement("div");
    banner.className = `cw-alarm cw-alarm-${alarm.severity}`;
    banner.dataset.test = "alarm";
    banner.dataset.id = alarm.id;
    banner.dataset.severity = alarm.severity;
    banner.tabIndex = 0;
    banner.title = labels.open;
    const body = document.createElement("div");
    body.className = "cw-alarm-body";
    const title = document.createElement("div");
    title.className = "cw-alarm-title";
    title.textContent = alarm.time ? `${alarm.title} · ${alarm.time}` : alarm.title;
    const what = document.createElement("div");
    what.className = "cw-alarm-what";
    what.textContent = alarm.what;
    const hint = document.createElement("div");
    hint.className = "cw-alarm-hint";
    hint.textContent = labels.open;
    body.append(title, what, hint);
    const dismiss = document.createElement("button");
    dismiss.className = "cw-alarm-dismiss";
    dismiss.dataset.test = "alarm-dismiss";
    dismiss.type = "button";
    dismiss.textContent = "✕";
    dismiss.title = labels.dismiss;
    dismiss.setAttribute("aria-label", labels.dismiss);
    dismiss.addEventListener("click", (event) => {
      event.stopPropagation();
      citywatchRemoveAlarm(alarm.id);
    });
    banner.append(body, dismiss);
    banner.addEventListener("click", () => citywatchOpenAlarm(alarm));
    banner.addEventListener("keydown", (event) => {
      if (event.key === "Enter") citywatchOpenAlarm(alarm);
    });
    stack.appendChild(banner);
  }
  if (ordered.length > CITYWATCH_SHOWN) {
    const more = document.createElement("button");
    more.type = "button";
    more.className = "cw-alarm-more";
    more.dataset.test = "alarm-more";
    more.textContent = citywatch.expanded
      ? labels.fewer
      : labels.more.replace("{count}", String(ordered.length - CITYWATCH_SHOWN));
    more.addEventListener("click", () => {
      citywatch.expanded = !citywatch.expanded;
      citywatchRenderAlarms();
    });
    stack.appendChild(more);
  }
}

function citywatchFlash() {
  document.body.classList.remove("cw-flash");
  void document.body.offsetWidth; // restart the animation
  document.body.classList.add("cw-flash");
}

// ---- Sound: made by Web Audio (no sound file to load) ----
function citywatchAudioContext() {
  if (!citywatch.audio && window.AudioContext) {
    citywatch.audio = new AudioContext();
    citywatch.audio.addEventListener("statechange", citywatchReportAudio);
  }
  return citywatch.audio;
}
function citywatchAudioRunning() {
  return citywatch.audio !== null && citywatch.audio.state === "running";
}
async function citywatchResumeAudio() {
  const audio = citywatchAudioContext();
  if (!audio) return false;
  try {
    await audio.resume();
  } catch (error) {}
  return citywatchAudioRunning();
}
// Tell the page whether sound may play now: its switch reads "(click to allow)" until it may.
function citywatchReportAudio() {
  if (!citywatch.page || !citywatch.audio || window.did_handshake === undefined) return;
  try {
    emitEvent("citywatch_audio", citywatchAudioRunning());
  } catch (error) {} // the page is not mounted (yet, or any more)
}
function citywatchGesture() {
  citywatch.runningBeforeGesture = citywatchAudioRunning();
  if (citywatch.soundWanted && !citywatch.runningBeforeGesture) citywatchResumeAudio();
}
// The sound switch: turns the sound on or off; while the sound is on but not allowed yet, a
// click on it only allows it. Returns what the page stores and shows.
async function citywatchSoundClick() {
  if (!(citywatch.soundWanted && !citywatch.runningBeforeGesture)) citywatch.soundWanted = !citywatch.soundWanted;
  let running = citywatchAudioRunning();
  if (citywatch.soundWanted) {
    running = await citywatchResumeAudio();
    if (running && !citywatch.runningBeforeGesture) citywatchPlay("medium"); // says: sound works
  }
  citywatch.runningBeforeGesture = running;
  return { on: citywatch.soundWanted, running: running };
}
// High: three loud tones; medium: one short, quieter tone.
function citywatchPlay(severity) {
  if (!citywatch.soundWanted || !citywatchAudioRunning()) return;
  window.citywatchSoundsPlayed.push(severity);
  const audio = citywatch.audio;
  const now = audio.currentTime;
  const tones = severity === "high" ? [880, 660, 880] : [660];
  const loudness = severity === "high" ? 0.3 : 0.12;
  const length = severity === "high" ? 0.22 : 0.18;
  tones.forEach((frequency, i) => {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(loudness, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.25 + length);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(now + i * 0.25);
    oscillator.stop(now + i * 0.25 + length + 0.01);
  });
}

// ---- The session's end: warned before (the page's banner), the login page after ----
function citywatchHere() {
  return encodeURIComponent(window.location.pathname + window.location.search);
}
function citywatchRelogin() {
  window.location.href = `/login?again=1&next=${citywatchHere()}`;
}
function citywatchSessionEnded() {
  const lang = citywatch.page ? `&lang=${citywatch.page.lang}` : "";
  window.location.href = `/login?ended=1${lang}&next=${citywatchHere()}`;
}

// ---- The server away: NiceGUI shows its "Connection lost" box (#popup) by aria-hidden; the
// page's own full-width banner follows it instead (the box itself is hidden by dashboard.css).
function citywatchWatchConnection() {
  const popup = document.getElementById("popup");
  if (!popup) return;
  let timer = null;
  const follow = () => {
    const lost = popup.getAttribute("aria-hidden") === "false";
    clearTimeout(timer);
    if (!lost) {
      document.body.classList.remove("cw-offline");
      return;
    }
    timer = setTimeout(() => document.body.classList.add("cw-offline"), 1500); // not for a blip
  };
  new MutationObserver(follow).observe(popup, { attributes: true, attributeFilter: ["aria-hidden"] });
  follow();
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
