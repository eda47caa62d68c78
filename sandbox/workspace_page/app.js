// The local workspace page: renders what the fake Slack holds (messages, Block Kit, ephemeral
// messages, the thinking status, streamed answers, each person's App Home, modals) for the
// person chosen in "You are", and sends what they do back to it. Text becomes nodes through
// format.js (el, mrkdwn, markdown): never HTML.
"use strict";

const HOME = "home"; // page.channel when the bot's Home tab is shown
const page = {
  me: localStorage.getItem("me") || "U0DANA",
  channel: localStorage.getItem("channel") || "C0HR",
  thread: null,
  state: null,
  ticks: new Map(), // "person block action" → the values ticked in a Home tab's checkboxes
};
const $ = (id) => document.getElementById(id);

// --- talking to the workspace server ------------------------------------------------------

let loads = 0;

async function load() {
  // Updates can overlap: only the newest request's answer is shown.
  const mine = ++loads;
  const answer = await fetch(`/workspace/state?as=${encodeURIComponent(page.me)}`);
  const state = await answer.json();
  if (mine !== loads) return;
  page.state = state;
  render();
}

async function send(path, body) {
  const answer = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: page.me, ...body }),
  });
  const result = await answer.json();
  if (!answer.ok) throw new Error(result.error || `HTTP ${answer.status}`);
  return result;
}

let offline = false;

function listen() {
  const events = new EventSource("/workspace/events");
  events.onopen = () => { offline = false; load(); };
  events.onmessage = () => load();
  events.onerror = () => {  // the browser reconnects by itself; say so meanwhile
    offline = true;
    $("offline").hidden = false;
  };
}

// --- Block Kit ----------------------------------------------------------------------------

function textObject(object, tag = "div") {
  if (!object) return null;
  return el(tag, { class: "text" }, object.type === "mrkdwn" ? mrkdwn(object.text, nameOf) : withEmoji(object.text));
}

// `where`: {message} for a message's blocks, {home: true} for the Home tab, {modal: view id}.
function renderBlocks(blocks, where) {
  return (blocks || []).map((block) => el("div", { class: `block block-${block.type}` }, renderBlock(block, where)));
}

function renderBlock(block, where) {
  switch (block.type) {
    case "header":
      return el("div", { role: "heading", "aria-level": "3" }, withEmoji(block.text.text));
    case "section":
      return el("div", { class: block.accessory ? "with-accessory" : null },
        el("div", {},
          textObject(block.text),
          block.fields ? el("div", { class: "fields" }, block.fields.map((f) => textObject(f))) : null),
        block.accessory ? el("div", { class: "accessory" }, element(block.accessory, block, where)) : null);
    case "context":
      return el("div", { class: "context" }, block.elements.map((e) => (e.type === "image" ? image(e, 16) : textObject(e, "span"))));
    case "divider":
      return el("hr", { class: "divider" });
    case "actions":
      return el("div", { class: "actions" }, block.elements.map((e) => element(e, block, where)));
    case "rich_text":
      return el("div", { class: "rich" }, block.elements.map(richElement));
    case "markdown":
      return el("div", { class: "text markdown" }, markdown(block.text));
    case "input":
      return null; // only in modals, rendered by inputBlock
    case "image":
      return image(block, 360);
    default:
      return el("div", { class: "meta" }, `[${block.type} block]`);
  }
}

function image(object, size) {
  const src = safeUrl(object.image_url);
  return src ? el("img", { src, alt: object.alt_text, style: `max-width: ${size}px; max-height: ${size}px` }) : null;
}

function element(e, block, where) {
  switch (e.type) {
    case "button":
      return button(e, block, where);
    case "checkboxes":
      return checkboxes(e, block, where);
    case "image":
      return image(e, 64);
    default:
      return el("span", { class: "meta" }, `[${e.type}]`);
  }
}

function richElement(element) {
  const inline = (elements) => elements.map(richInline);
  switch (element.type) {
    case "rich_text_section":
      return el("div", {}, inline(element.elements));
    case "rich_text_preformatted":
      return el("pre", {}, inline(element.elements));
    case "rich_text_quote":
      return el("blockquote", {}, inline(element.elements));
    case "rich_text_list":
      return el(element.style === "ordered" ? "ol" : "ul", {}, element.elements.map((item) => el("li", {}, richElement(item))));
    default:
      return null;
  }
}

function richInline(element) {
  let node;
  switch (element.type) {
    case "emoji":
      node = document.createTextNode(EMOJI[element.name] || `:${element.name}:`);
      break;
    case "user":
      node = el("span", { class: "mention" }, `@${nameOf(element.user_id)}`);
      break;
    case "usergroup":
      node = el("span", { class: "mention" }, `@${element.usergroup_id}`);
      break;
    case "channel":
      node = el("span", { class: "mention" }, `#${element.channel_id}`);
      break;
    case "broadcast":
      node = el("span", { class: "mention" }, `@${element.range}`);
      break;
    case "link":
      node = link(element.url, element.text || element.url);
      break;
    default:
      node = document.createTextNode(element.text || "");
  }
  const style = element.style || {};
  if (style.code) node = el("code", {}, node);
  if (style.bold) node = el("strong", {}, node);
  if (style.italic) node = el("em", {}, node);
  if (style.strike) node = el("s", {}, node);
  return node;
}

function button(element, block, where) {
  const style = element.style ? ` ${element.style}` : "";
  return el("button", {
    type: "button",
    class: `btn${style}`,
    "data-action-id": element.action_id,
    "data-value": element.value,
    onclick: () => press(element, block, where),
  }, withEmoji(element.text.text));
}

// --- the Home tab's checkboxes, and what a click sends ------------------------------------

function tickKey(block, element) {
  return `${page.me} ${block.block_id || ""} ${element.action_id}`;
}

function checkboxes(element, block, where) {
  const key = tickKey(block, element);
  const offered = new Set(element.options.map((o) => o.value));
  const initially = (element.initial_options || []).map((o) => o.value);
  const ticked = new Set([...(page.ticks.get(key) || initially)].filter((v) => offered.has(v)));
  page.ticks.set(key, ticked);
  const label = block.type === "section" && block.text ? block.text.text : "Choose";
  return el("fieldset", { class: "checkboxes" },
    el("legend", { class: "visually-hidden" }, label),
    element.options.map((option) => el("label", { class: "option" },
      el("input", {
        type: "checkbox",
        value: option.value,
        checked: ticked.has(option.value),
        "data-action-id": element.action_id,
        "data-value": option.value,
        onchange: (event) => tick(element, block, where, option.value, event.target.checked),
      }),
      el("span", {}, textObject(option.text, "span"), option.description ? textObject(option.description, "span") : null))));
}

function homeTicks() {
  // Every checkbox group of the Home tab shown: {block_id: {action_id: [values ticked]}}.
  const ticked = {};
  for (const block of (page.state.home || {}).blocks || []) {
    for (const e of [...(block.elements || []), block.accessory || {}]) {
      if (e.type !== "checkboxes") continue;
      const values = [...(page.ticks.get(tickKey(block, e)) || [])];
      (ticked[block.block_id || ""] ||= {})[e.action_id] = values;
    }
  }
  return ticked;
}

async function tick(element, block, where, value, checked) {
  const values = page.ticks.get(tickKey(block, element));
  if (checked) values.add(value); else values.delete(value);
  if (!where.home) return; // only the Home tab has checkboxes the bot listens to
  await send("/workspace/click", { home: true, action_id: element.action_id, block_id: block.block_id || "", ticked: homeTicks() });
}

async function press(element, block, where) {
  if (element.confirm && !(await confirmed(element.confirm))) return;
  if (element.url && safeUrl(element.url)) window.open(element.url, "_blank", "noopener");
  if (where.home) {
    await send("/workspace/click", { home: true, action_id: element.action_id, block_id: block.block_id || "", value: element.value, ticked: homeTicks() });
    return;
  }
  if (where.modal) {
    await send("/workspace/click", { view_id: where.modal, action_id: element.action_id, block_id: block.block_id || "", value: element.value });
    return;
  }
  await send("/workspace/click", {
    channel: where.message.channel,
    ts: where.message.ts,
    action_id: element.action_id,
    block_id: block.block_id,
    value: element.value,
  });
}

function confirmed(confirm) {
  const dialog = $("confirm");
  $("confirm-title").textContent = confirm.title.text;
  $("confirm-text").textContent = confirm.text.text;
  $("confirm-ok").textContent = confirm.confirm.text;
  $("confirm-ok").className = confirm.style === "danger" ? "btn danger" : "primary";
  $("confirm-deny").textContent = confirm.deny.text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true }));
}

// --- modals (views.open) ------------------------------------------------------------------

let shownView = null;

function showModal(view) {
  const dialog = $("modal");
  if (!view) {
    if (dialog.open) dialog.close();
    shownView = null;
    return;
  }
  const shownAs = JSON.stringify(view);
  if (shownView === view.id && dialog.open && dialog.dataset.shown === shownAs) return;
  shownView = view.id;
  dialog.dataset.shown = shownAs; // views.update shows the same view anew
  $("modal-title").textContent = view.title.text;
  $("modal-submit").hidden = !view.submit; // a modal without one only shows something
  $("modal-submit").textContent = view.submit ? view.submit.text : "";
  $("modal-close").textContent = (view.close || { text: view.submit ? "Cancel" : "Close" }).text;
  $("modal-errors").textContent = "";
  $("modal-blocks").replaceChildren(...view.blocks.map((block) => (block.type === "input"
    ? inputBlock(block)
    : el("div", { class: `block block-${block.type}` }, renderBlock(block, { modal: view.id })))));
  if (!dialog.open) dialog.showModal();
}

function inputBlock(block) {
  const e = block.element;
  const id = `input-${block.block_id}`;
  const common = {
    id,
    "data-block": block.block_id,
    "data-action": e.action_id,
    "data-kind": e.type,
    required: !block.optional,
    "aria-describedby": block.hint ? `${id}-hint` : null,
    placeholder: e.placeholder ? e.placeholder.text : null,
  };
  let control;
  if (e.type === "plain_text_input") {
    const limits = { maxlength: e.max_length, minlength: e.min_length };
    control = e.multiline ? el("textarea", { ...common, ...limits, rows: 3 }) : el("input", { ...common, ...limits });
    control.value = e.initial_value || "";
  } else if (e.type === "users_select") {
    // Slack's picker of the workspace's people.
    const people = (page.state.members || []).map((m) => el("option", { value: m.id }, m.name));
    control = el("select", { ...common, placeholder: null }, el("option", { value: "" }, common.placeholder || "Choose someone"), people);
    control.value = e.initial_user || "";
  } else {
    control = el("p", { class: "meta" }, `[${e.type} input]`);
  }
  return el("div", { class: "input-block" },
    el("label", { for: id }, block.label.text, block.optional ? el("span", { class: "optional" }, " (optional)") : null),
    control,
    block.hint ? el("p", { class: "hint", id: `${id}-hint` }, block.hint.text) : null,
    el("p", { class: "errors", "data-error-for": block.block_id }));
}

async function submitModal(event) {
  event.preventDefault();
  const values = {};
  for (const input of $("modal-blocks").querySelectorAll("[data-block]")) {
    const value = input.dataset.kind === "users_select"
      ? { type: "users_select", selected_user: input.value || null }
      : input.value;
    values[input.dataset.block] = { [input.dataset.action]: value };
  }
  for (const shown of $("modal-blocks").querySelectorAll("[data-error-for]")) shown.textContent = "";
  $("modal-errors").textContent = "";
  const result = await send("/workspace/submit", { view_id: shownView, values });
  const unplaced = [];
  for (const [block, message] of Object.entries(result.errors || {})) {
    const under = [...$("modal-blocks").querySelectorAll("[data-error-for]")].find((p) => p.dataset.errorFor === block);
    if (under) under.textContent = message; else unplaced.push(message);
  }
  $("modal-errors").textContent = unplaced.join(" ");
  // Accepted: the view is closed; what shows now (nothing, or the modal under it) is the state's.
  if (!Object.keys(result.errors || {}).length) await load();
}

// --- the page -----------------------------------------------------------------------------

function nameOf(user) {
  if (user === page.state.bot.id) return page.state.bot.name;
  return (page.state.names || {})[user] || user;
}

function statusOf(message) {
  return (page.state.statuses || []).find((s) => s.channel === message.channel && s.thread_ts === message.ts);
}

function thinking(status) {
  // Slack's "<app> is thinking…", with the loading messages taking turns under it.
  const loading = status.loading || [];
  return el("div", { class: "status", role: "status", "data-testid": "status" },
    el("span", { class: "dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")),
    el("span", {}, `${page.state.bot.name} ${status.status}`),
    loading.length ? el("span", { class: "loading", "data-loading": JSON.stringify(loading) }, loading[turn() % loading.length]) : null);
}

function turn() {
  return Math.floor(Date.now() / 2500);
}

setInterval(() => {
  for (const shown of document.querySelectorAll("[data-loading]")) {
    const loading = JSON.parse(shown.dataset.loading);
    shown.textContent = loading[turn() % loading.length];
  }
}, 500);

function messageBody(message) {
  if (message.blocks) return renderBlocks(message.blocks, { message });
  if (message.markdown) return el("div", { class: "text markdown" }, markdown(message.text));
  return el("div", { class: "text" }, mrkdwn(message.text, nameOf));
}

function renderMessage(message, inThread) {
  const replies = inThread ? [] : page.state.messages.filter((m) => m.thread_ts === message.ts && m.ts !== message.ts && m.channel === message.channel && !m.ephemeral);
  const isBot = message.user === page.state.bot.id;
  const status = inThread ? null : statusOf(message);
  return el("li", { class: `message${message.ephemeral ? " ephemeral" : ""}${message.streaming ? " streaming" : ""}`, "data-ts": message.ts, "data-testid": message.blocks ? "card" : "message" },
    el("div", { class: `avatar${isBot ? " bot" : ""}`, "aria-hidden": "true" }, nameOf(message.user)[0]),
    el("div", {},
      el("div", { class: "meta" }, el("strong", {}, nameOf(message.user)), isBot ? el("span", { class: "app-tag" }, "APP") : null,
        new Date(Number(message.ts.split(".")[0]) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
        message.edited ? " (edited)" : ""),
      message.ephemeral ? el("div", { class: "only-you" }, "Only visible to you") : null,
      messageBody(message),
      message.reactions && message.reactions.length ? el("div", { class: "reactions", "aria-label": "Reactions" }, message.reactions.map((r) => el("span", { class: "reaction" }, `${EMOJI[r] || `:${r}:`} 1`))) : null,
      replies.length ? el("button", { class: "replies", type: "button", onclick: () => openThread(message.ts) }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`) : null,
      status ? thinking(status) : null,
    ));
}

function openThread(ts) {
  page.thread = ts;
  render();
  $("thread-text").focus();
}

function openHome() {
  page.channel = HOME;
  page.thread = null;
  localStorage.setItem("channel", HOME);
  render();
  // Slack sends app_home_opened each time the tab is opened; the bot then publishes the view.
  send("/workspace/home", {}).catch((error) => { $("send-error").textContent = `Not sent: ${error.message}`; });
}

function focusKey() {
  // What has the keyboard focus, so a re-render can give it back (a button on a card, say).
  const active = document.activeElement;
  const holder = active && active.closest && active.closest("[data-ts]");
  if (!holder || !active.dataset.actionId) return null;
  return { ts: holder.dataset.ts, action: active.dataset.actionId, value: active.dataset.value, list: holder.parentElement.id };
}

function restoreFocus(key) {
  if (!key) return;
  const value = key.value === undefined ? "" : `[data-value="${CSS.escape(key.value)}"]`;
  const target = document.querySelector(`#${key.list} [data-ts="${CSS.escape(key.ts)}"] [data-action-id="${CSS.escape(key.action)}"]${value}`);
  if (target) target.focus();
}

function fill(list, items) {
  // Replace a message list, staying at the bottom only if the reader was there.
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function renderHome(state) {
  $("channel-name").textContent = state.bot.name;
  $("channel-topic").textContent = "Home";
  const view = state.home;
  const shown = view
    ? el("div", { class: "home-view", "data-ts": HOME, "data-testid": "home" }, renderBlocks(view.blocks, { home: true }))
    : el("p", { class: "meta" }, `${state.bot.name} has not published a Home tab for you yet.`);
  const box = $("home");
  const top = box.scrollTop;
  box.replaceChildren(shown);
  box.scrollTop = top;
}

function render() {
  const focused = focusKey();
  const state = page.state;
  const who = $("who");
  if (!who.options.length) {
    for (const person of state.people) who.append(el("option", { value: person.id }, `${person.name} (${person.role})`));
  }
  who.value = state.me;
  document.body.dataset.me = state.me; // what is shown is this person's view
  $("role").textContent = (state.people.find((p) => p.id === state.me) || {}).role || "";
  const current = (id) => String(id === page.channel);
  const channelButton = (channel) => el("li", {}, el("button", { type: "button", "aria-current": current(channel.id), onclick: () => { page.channel = channel.id; page.thread = null; localStorage.setItem("channel", channel.id); render(); $("text").focus(); } }, channel.dm ? channel.name : `# ${channel.name}`));
  $("channels").replaceChildren(...state.channels.filter((c) => !c.dm).map(channelButton));
  $("dms").replaceChildren(...state.channels.filter((c) => c.dm).map(channelButton));
  $("apps").replaceChildren(el("li", {}, el("button", { type: "button", "aria-current": current(HOME), onclick: openHome }, "Home")));
  const atHome = page.channel === HOME;
  $("home").hidden = !atHome;
  $("messages").hidden = atHome;
  $("composer").hidden = atHome;
  if (atHome) {
    renderHome(state);
    $("thread").hidden = true;
  } else {
    renderChannel(state);
  }
  const recent = (state.notices || []).filter((n) => Date.now() / 1000 - n.at < 60);
  $("notices").replaceChildren(...recent.map((n) => el("p", { class: "notice" }, n.text)));
  $("offline").hidden = !offline;
  showModal(state.view);
  restoreFocus(focused);
}

function renderChannel(state) {
  let channel = state.channels.find((c) => c.id === page.channel);
  if (!channel) {
    channel = state.channels.find((c) => c.dm) || state.channels[0];
    page.channel = channel.id;
  }
  $("channel-name").textContent = channel.dm ? channel.name : `# ${channel.name}`;
  $("channel-topic").textContent = channel.dm ? "Your direct messages with the bot" : channel.topic;
  $("text").placeholder = channel.dm ? `Message ${channel.name}` : `Message #${channel.name} (mention @HR Assistant to ask)`;
  const here = state.messages.filter((m) => m.channel === page.channel);
  const top = here.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  fill($("messages"), top.map((m) => renderMessage(m, false)));
  const thread = $("thread");
  const parent = here.find((m) => m.ts === page.thread);
  if (parent) {
    thread.hidden = false;
    const inThread = here.filter((m) => m.ts === page.thread || m.thread_ts === page.thread);
    const status = statusOf(parent);
    const items = inThread.map((m) => renderMessage(m, true));
    if (status) items.push(el("li", { class: "message status-row" }, el("div"), thinking(status)));
    fill($("thread-messages"), items);
  } else {
    thread.hidden = true;
  }
}

async function post(event, textarea, threadTs) {
  event.preventDefault();
  const text = textarea.value.trim();
  if (!text) return;
  textarea.value = "";
  let sent;
  try {
    sent = await send("/workspace/say", { channel: page.channel, text, thread_ts: threadTs });
  } catch (error) {
    textarea.value = text; // nothing typed is lost
    $("send-error").textContent = `Not sent: ${error.message}`;
    return;
  }
  $("send-error").textContent = "";
  if (!threadTs) page.thread = sent.ts; // the bot answers in the message's thread
  await load();
}

function enterSends(textarea, form) {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("who").addEventListener("change", async (event) => {
    page.me = event.target.value;
    page.thread = null;
    localStorage.setItem("me", page.me);
    await load();
    if (page.channel === HOME) openHome(); // they open their own Home tab
  });
  $("composer").addEventListener("submit", (event) => post(event, $("text"), null));
  $("thread-composer").addEventListener("submit", (event) => post(event, $("thread-text"), page.thread));
  enterSends($("text"), $("composer"));
  enterSends($("thread-text"), $("thread-composer"));
  $("close-thread").addEventListener("click", () => { page.thread = null; render(); });
  $("modal-form").addEventListener("submit", submitModal);
  $("modal-close").addEventListener("click", async () => {
    const id = shownView;
    $("modal").close();
    await send("/workspace/close", { view_id: id });
  });
  $("modal").addEventListener("cancel", () => send("/workspace/close", { view_id: shownView }));
  // As in Slack, a modal left open does not survive a reload of the page.
  send("/workspace/reloaded", {}).catch(() => {}).then(load).then(() => {
    if (page.channel === HOME) openHome();
    listen();
  });
});
