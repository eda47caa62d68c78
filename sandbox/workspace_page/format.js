// Text the bot or a person wrote, as DOM nodes: Slack's mrkdwn (messages, Block Kit text) and
// Markdown (what a streamed message holds). Nothing here is ever parsed as HTML: every piece of
// text becomes a text node, inside elements made here; links open only http(s) and mailto.
"use strict";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function safeUrl(url) {
  return /^(https?|mailto):/i.test(String(url || "")) ? String(url) : null;
}

function link(url, ...shown) {
  const href = safeUrl(url);
  if (!href) return el("span", {}, shown);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" }, shown);
}

// --- Slack's mrkdwn, as nodes -------------------------------------------------------------

const EMOJI = {
  warning: "⚠️", white_check_mark: "✅", x: "❌", eyes: "👀", hourglass: "⏳",
  hourglass_flowing_sand: "⏳", no_entry_sign: "🚫", leftwards_arrow_with_hook: "↩️",
  lock: "🔒", wave: "👋", house: "🏠", bar_chart: "📊", inbox_tray: "📥",
};

function withEmoji(text) {
  return String(text).replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

function decodeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// Code, <…> tokens and the like become nodes first; the text keeps a marker where each goes
// (\u0000n\u0000, a character that cannot come from the bot: it is removed from its text).
function holder() {
  const held = [];
  const hold = (node) => `\u0000${held.push(node) - 1}\u0000`;
  const nodes = (text) => text.split(/\u0000(\d+)\u0000/).map((part, i) => (i % 2 ? held[Number(part)] : withEmoji(part))).filter((n) => n !== "");
  return { hold, nodes };
}

const MRKDWN_STYLE = /(^|[\s(])([*_~])(?=\S)([^\n]*?\S)\2(?=$|[\s).,!?:;'"])/;
const MRKDWN_TAGS = { "*": "strong", "_": "em", "~": "s" };

function mrkdwnStyled(text, nodes) {
  const found = MRKDWN_STYLE.exec(text);
  if (!found) return nodes(text);
  const before = text.slice(0, found.index) + found[1];
  const rest = text.slice(found.index + found[0].length);
  return [...nodes(before), el(MRKDWN_TAGS[found[2]], {}, mrkdwnStyled(found[3], nodes)), ...mrkdwnStyled(rest, nodes)];
}

// `nameOf(id)`: the name a <@U…> mention shows.
function mrkdwn(text, nameOf = (id) => id) {
  const { hold, nodes } = holder();
  const source = String(text || "").replace(/\u0000/g, "")
    .replace(/```([\s\S]*?)```/g, (_, code) => hold(el("pre", {}, decodeEntities(code))))
    .replace(/`([^`\n]+)`/g, (_, code) => hold(el("code", {}, decodeEntities(code))))
    .replace(/<([^<>\n]+)>/g, (_, inner) => hold(slackToken(inner, nameOf)));
  const out = [];
  let quoted = true; // no line break before the first line, or after a quote
  for (const line of decodeEntities(source).split("\n")) {
    const quote = /^> ?(.*)$/.exec(line);
    if (quote) {
      out.push(el("blockquote", {}, mrkdwnStyled(quote[1], nodes)));
    } else {
      if (!quoted) out.push(el("br"));
      out.push(...mrkdwnStyled(line, nodes));
    }
    quoted = Boolean(quote);
  }
  return out;
}

function slackToken(inner, nameOf) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) return el("span", { class: "mention" }, `@${nameOf(target.slice(1))}`);
  if (target.startsWith("#")) return el("span", { class: "mention" }, `#${decodeEntities(label || target.slice(1))}`);
  if (target.startsWith("!date^")) {
    const when = new Date(Number(target.split("^")[1]) * 1000);
    return document.createTextNode(when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }));
  }
  if (target.startsWith("!subteam^")) return el("span", { class: "mention" }, `@${decodeEntities(label || target.slice(9))}`);
  if (target.startsWith("!")) return el("span", { class: "mention" }, `@${target.slice(1)}`);
  if (safeUrl(target)) return link(decodeEntities(target), decodeEntities(label || target));
  return document.createTextNode(`<${decodeEntities(inner)}>`);
}

// --- Markdown (what a streamed message holds), as nodes ------------------------------------

function decodeMarkdownEntities(text) {
  return text.replace(/&(lt|gt|quot|#39|amp);/g, (_, name) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[name]);
}

const MD_MARKS = [["**", "strong"], ["__", "strong"], ["~~", "s"], ["*", "em"], ["_", "em"]];
const ESCAPABLE = /[!-/:-@[-`{-~]/;

function closing(text, mark, from) {
  // Where `mark` closes emphasis opened before `from`: not after a space, not escaped.
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") { i++; continue; }
    if (text.startsWith(mark, i) && !/\s/.test(text[i - 1]) && i > from) {
      if (mark.length === 1 && text[i + 1] === mark) { i++; continue; } // part of a double
      if (mark[0] === "_" && /\w/.test(text[i + mark.length] || "")) continue; // inside a word
      return i;
    }
  }
  return -1;
}

function inlineMarkdown(text) {
  const out = [];
  let plain = "";
  const flush = () => { if (plain) out.push(withEmoji(decodeMarkdownEntities(plain))); plain = ""; };
  let i = 0;
  scan: while (i < text.length) {
    const c = text[i];
    if (c === "\\" && ESCAPABLE.test(text[i + 1] || "")) {
      plain += text[i + 1] === "&" ? "&amp;" : text[i + 1]; // an escaped & stays an &
      i += 2;
      continue;
    }
    if (c === "`") {
      const run = /^`+/.exec(text.slice(i))[0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        out.push(el("code", {}, text.slice(i + run.length, end)));
        i = end + run.length;
      } else {
        plain += run;
        i += run.length;
      }
      continue;
    }
    for (const [mark, tag] of MD_MARKS) {
      const opens = text.startsWith(mark, i) && /\S/.test(text[i + mark.length] || "");
      if (!opens || (mark[0] === "_" && /\w/.test(text[i - 1] || ""))) continue;
      const end = closing(text, mark, i + mark.length);
      if (end < 0) continue;
      flush();
      out.push(el(tag, {}, inlineMarkdown(text.slice(i + mark.length, end))));
      i = end + mark.length;
      continue scan;
    }
    const linked = c === "[" && /^\[((?:\\.|[^\]\\])*)\]\(([^\s)]+)\)/.exec(text.slice(i));
    if (linked) {
      flush();
      out.push(link(linked[2], inlineMarkdown(linked[1])));
      i += linked[0].length;
      continue;
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

const MD_BLOCK_START = /^(\s*```|#{1,6}\s|\s*[-*+]\s+\S|\s*\d+[.)]\s+\S|>|\s*([-*_])(\s*\2){2,}\s*$)/;

function markdown(text) {
  const lines = String(text || "").split("\n");
  const out = [];
  let i = 0;
  const run = (test) => {
    const found = [];
    while (i < lines.length && test(lines[i])) found.push(lines[i++]);
    return found;
  };
  const joined = (found) => found.flatMap((line, n) => (n ? [el("br"), inlineMarkdown(line)] : [inlineMarkdown(line)]));
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*```/.test(line)) {
      i++;
      const code = run((l) => !/^\s*```/.test(l));
      i++; // the closing fence
      out.push(el("pre", {}, code.join("\n")));
    } else if (/^#{1,6}\s/.test(line)) {
      out.push(el("div", { class: "md-heading" }, inlineMarkdown(line.replace(/^#{1,6}\s+/, ""))));
      i++;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push(el("hr", { class: "divider" }));
      i++;
    } else if (/^\s*[-*+]\s+\S/.test(line)) {
      const items = run((l) => /^\s*[-*+]\s+\S/.test(l));
      out.push(el("ul", {}, items.map((item) => el("li", {}, inlineMarkdown(item.replace(/^\s*[-*+]\s+/, ""))))));
    } else if (/^\s*\d+[.)]\s+\S/.test(line)) {
      const items = run((l) => /^\s*\d+[.)]\s+\S/.test(l));
      const start = parseInt(items[0], 10);
      out.push(el("ol", { start: start === 1 ? null : start }, items.map((item) => el("li", {}, inlineMarkdown(item.replace(/^\s*\d+[.)]\s+/, ""))))));
    } else if (line.startsWith(">")) {
      out.push(el("blockquote", {}, joined(run((l) => l.startsWith(">")).map((l) => l.replace(/^> ?/, "")))));
    } else if (!line.trim()) {
      i++;
    } else {
      out.push(el("p", {}, joined(run((l) => l.trim() && !MD_BLOCK_START.test(l)))));
    }
  }
  return out;
}
