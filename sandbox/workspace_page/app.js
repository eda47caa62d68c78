// The local workspace page: renders what the fake Slack holds (messages, Block Kit, ephemeral
// messages, modals) for the person chosen in "You are", and sends what they do back to it.
"use strict";

const page = {
  me: localStorage.getItem("me") || "U0DANA",
  channel: localStorage.getItem("channel") || "C0HR",
  thread: null,
  state: null,
};
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "html") node.innerHTML = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

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

// --- Slack's mrkdwn -----------------------------------------------------------------------

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function decodeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function mrkdwn(text) {
  const held = [];
  const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
  let out = (text || "")
    .replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre>${escapeHtml(decodeEntities(code))}</pre>`))
    .replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${escapeHtml(decodeEntities(code))}</code>`))
    .replace(/<([^<>\n]+)>/g, (_, inner) => hold(slackToken(inner)));
  out = escapeHtml(decodeEntities(out))
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,!?:;])/g, "$1<strong>$2</strong>")
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, "$1<em>$2</em>")
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,!?:;])/g, "$1<s>$2</s>")
    .replace(/^&#62; ?(.*)$/gm, "<blockquote>$1</blockquote>")
    .replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole)
    .replace(/\n/g, "<br>");
  return out.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
}

function slackToken(inner) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) {
    const name = (page.state.names || {})[target.slice(1)] || target.slice(1);
    return `<span class="mention">@${escapeHtml(name)}</span>`;
  }
  if (target.startsWith("#")) return `<span class="mention">#${escapeHtml(label || target.slice(1))}</span>`;
  if (target.startsWith("!date^")) {
    const when = new Date(Number(target.split("^")[1]) * 1000);
    return escapeHtml(when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }));
  }
  if (target.startsWith("!")) return `<span class="mention">@${escapeHtml(target.slice(1))}</span>`;
  if (/^(https?|mailto):/i.test(target)) {
    const href = escapeHtml(decodeEntities(target));
    const shown = escapeHtml(decodeEntities(label || target));
    return `<a href="${href}" target="_blank" rel="noopener noreferrer">${shown}</a>`;
  }
  return escapeHtml(`<${decodeEntities(inner)}>`);
}

function textObject(object) {
  if (!object) return null;
  if (object.type === "mrkdwn") return el("div", { class: "text", html: mrkdwn(object.text) });
  return el("div", { class: "text" }, object.text);
}

// --- Block Kit ----------------------------------------------------------------------------

function renderBlocks(blocks, message) {
  return (blocks || []).map((block) => el("div", { class: `block block-${block.type}` }, renderBlock(block, message)));
}

function renderBlock(block, message) {
  switch (block.type) {
    case "header":
      return el("div", { role: "heading", "aria-level": "3" }, block.text.text);
    case "section":
      return [
        textObject(block.text),
        block.fields ? el("div", { class: "fields" }, block.fields.map(textObject)) : null,
        block.accessory && block.accessory.type === "button" ? button(block.accessory, block, message) : null,
      ];
    case "context":
      return el("div", { class: "context" }, block.elements.map((e) => (e.type === "image" ? el("img", { src: e.image_url, alt: e.alt_text, width: 16, height: 16 }) : textObject(e))));
    case "divider":
      return el("hr", { class: "divider" });
    case "actions":
      return el("div", { class: "actions" }, block.elements.map((e) => (e.type === "button" ? button(e, block, message) : null)));
    case "rich_text":
      return el("div", { class: "rich" }, block.elements.map(richElement));
    case "input":
      return null; // only in modals, rendered by openModal
    case "image":
      return el("img", { src: block.image_url, alt: block.alt_text, style: "max-width: 360px" });
    default:
      return el("div", { class: "meta" }, `[${block.type} block]`);
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

const EMOJI = {
  warning: "⚠️", white_check_mark: "✅", x: "❌", eyes: "👀", hourglass: "⏳",
  hourglass_flowing_sand: "⏳", no_entry_sign: "🚫", leftwards_arrow_with_hook: "↩️",
  lock: "🔒", wave: "👋",
};

function richInline(element) {
  if (element.type === "emoji") return EMOJI[element.name] || `:${element.name}:`;
  if (element.type === "user") return el("span", { class: "mention" }, `@${(page.state.names || {})[element.user_id] || element.user_id}`);
  if (element.type === "link") return el("a", { href: element.url, target: "_blank", rel: "noopener noreferrer" }, element.text || element.url);
  let node = document.createTextNode(element.text || "");
  const style = element.style || {};
  if (style.code) node = el("code", {}, node);
  if (style.bold) node = el("strong", {}, node);
  if (style.italic) node = el("em", {}, node);
  if (style.strike) node = el("s", {}, node);
  return node;
}

function button(element, block, message) {
  const style = element.style ? ` ${element.style}` : "";
  return el("button", {
    type: "button",
    class: `btn${style}`,
    "data-action-id": element.action_id,
    onclick: () => press(element, block, message),
  }, element.text.text);
}

async function press(element, block, message) {
  if (element.confirm && !(await confirmed(element.confirm))) return;
  if (element.url && /^https?:/i.test(element.url)) window.open(element.url, "_blank", "noopener");
  await send("/workspace/click", {
    channel: message.channel,
    ts: message.ts,
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
  if (shownView === view.id && dialog.open) return;
  shownView = view.id;
  $("modal-title").textContent = view.title.text;
  $("modal-submit").textContent = (view.submit || { text: "Submit" }).text;
  $("modal-close").textContent = (view.close || { text: "Cancel" }).text;
  $("modal-errors").textContent = "";
  const fields = $("modal-blocks");
  fields.replaceChildren(...view.blocks.map((block) => {
    if (block.type !== "input") return el("div", { class: "block" }, renderBlock(block, {}));
    const id = `input-${block.block_id}`;
    const input = block.element.multiline
      ? el("textarea", { id, rows: 3, "data-block": block.block_id, "data-action": block.element.action_id, maxlength: block.element.max_length })
      : el("input", { id, "data-block": block.block_id, "data-action": block.element.action_id, maxlength: block.element.max_length });
    if (!block.optional) input.required = true;
    return el("div", {}, el("label", { for: id }, block.label.text), input);
  }));
  dialog.showModal();
}

async function submitModal(event) {
  event.preventDefault();
  const values = {};
  for (const input of $("modal-blocks").querySelectorAll("[data-block]")) {
    values[input.dataset.block] = { [input.dataset.action]: input.value };
  }
  const result = await send("/workspace/submit", { view_id: shownView, values });
  const errors = Object.values(result.errors || {});
  if (errors.length) $("modal-errors").textContent = errors.join(" ");
  else $("modal").close();
}

// --- the page -----------------------------------------------------------------------------

function nameOf(user) {
  if (user === page.state.bot.id) return page.state.bot.name;
  return (page.state.names || {})[user] || user;
}

function renderMessage(message, inThread) {
  const replies = inThread ? [] : page.state.messages.filter((m) => m.thread_ts === message.ts && m.ts !== message.ts && m.channel === message.channel && !m.ephemeral);
  const isBot = message.user === page.state.bot.id;
  return el("li", { class: `message${message.ephemeral ? " ephemeral" : ""}`, "data-ts": message.ts, "data-testid": message.blocks ? "card" : "message" },
    el("div", { class: `avatar${isBot ? " bot" : ""}`, "aria-hidden": "true" }, nameOf(message.user)[0]),
    el("div", {},
      el("div", { class: "meta" }, el("strong", {}, nameOf(message.user)), isBot ? el("span", { class: "app-tag" }, "APP") : null,
        new Date(Number(message.ts.split(".")[0]) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
        message.edited ? " (edited)" : ""),
      message.ephemeral ? el("div", { class: "only-you" }, "Only visible to you") : null,
      message.blocks ? renderBlocks(message.blocks, message) : el("div", { class: "text", html: mrkdwn(message.text) }),
      message.reactions && message.reactions.length ? el("div", { class: "reactions", "aria-label": "Reactions" }, message.reactions.map((r) => el("span", { class: "reaction" }, `${EMOJI[r] || `:${r}:`} 1`))) : null,
      replies.length ? el("button", { class: "replies", type: "button", onclick: () => openThread(message.ts) }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`) : null,
    ));
}

function openThread(ts) {
  page.thread = ts;
  render();
  $("thread-text").focus();
}

function focusKey() {
  // What has the keyboard focus, so a re-render can give it back (a button on a card, say).
  const active = document.activeElement;
  const message = active && active.closest && active.closest("[data-ts]");
  if (!message || !active.dataset.actionId) return null;
  return { ts: message.dataset.ts, action: active.dataset.actionId, list: message.parentElement.id };
}

function restoreFocus(key) {
  if (!key) return;
  const button = document.querySelector(`#${key.list} [data-ts="${CSS.escape(key.ts)}"] [data-action-id="${CSS.escape(key.action)}"]`);
  if (button) button.focus();
}

function fill(list, items) {
  // Replace a message list, staying at the bottom only if the reader was there.
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
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
  const channelButton = (channel) => el("li", {}, el("button", { type: "button", "aria-current": String(channel.id === page.channel), onclick: () => { page.channel = channel.id; page.thread = null; localStorage.setItem("channel", channel.id); render(); $("text").focus(); } }, channel.dm ? channel.name : `# ${channel.name}`));
  $("channels").replaceChildren(...state.channels.filter((c) => !c.dm).map(channelButton));
  $("dms").replaceChildren(...state.channels.filter((c) => c.dm).map(channelButton));
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
  if (page.thread && here.some((m) => m.ts === page.thread)) {
    thread.hidden = false;
    const inThread = here.filter((m) => m.ts === page.thread || m.thread_ts === page.thread);
    fill($("thread-messages"), inThread.map((m) => renderMessage(m, true)));
  } else {
    thread.hidden = true;
  }
  const recent = (state.notices || []).filter((n) => Date.now() / 1000 - n.at < 60);
  $("notices").replaceChildren(...recent.map((n) => el("p", { class: "notice" }, n.text)));
  $("offline").hidden = !offline;
  showModal(state.view);
  restoreFocus(focused);
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
  $("who").addEventListener("change", (event) => {
    page.me = event.target.value;
    page.thread = null;
    localStorage.setItem("me", page.me);
    load();
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
  load().then(listen);
});
