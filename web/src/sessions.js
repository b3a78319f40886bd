// Live sessions: create one on the open charts, share its link, see who is present, annotate, end it. The join is a
// joinSession of @sensorhub/client, which rejoins by itself after a drop, a failover or fell_behind, each rejoin
// beginning with a fresh snapshot; what ends it here is a refusal, the session's end, or a restart with another
// identity (closed first, joined again after).
import { el, $, toDate } from "./dom.js";
import { textOf } from "./connection.js";

export class Sessions {
  constructor({ hub, charts, root }) {
    Object.assign(this, { hub, charts, root });
    this.client = hub.client;
    this.session = null;
    this.participants = new Map();
    this.annotations = [];
    this.stream = null;
    $("#session-create", root).addEventListener("submit", e => { e.preventDefault(); this.create($("#session-title", root).value).catch(err => this.fail(err)); });
    $("#session-annotate", root).addEventListener("submit", e => { e.preventDefault(); this.annotate($("#annotation-text", root).value).catch(err => this.fail(err)); });
    $("#session-end", root).addEventListener("click", () => this.end().catch(err => this.fail(err)));
    hub.onRestart(phase => {
      if (phase === "stopping") { this.stream?.close(); this.stream = null; }
      else if (this.session && !this.ended) this.join(this.session.id);
    });
  }

  fail(error) { $("#session-state", this.root).textContent = textOf(error); }

  async create(title) {
    await this.hub.ready();
    const info = await this.client.createSession({ title: title || "Session", sensorIds: this.charts.ids, private: false, invited: null });
    this.join(info.id);
    return info;
  }

  join(id) {
    this.stream?.close();
    this.ended = false;
    this.session = { id };
    const stream = this.client.joinSession(id, {
      onEvent: event => this.on(event),
      // A refusal (unknown session, full, not allowed) is shown, and the session is not joined again.
      onError: error => { this.session = null; this.fail(error); },
      onClose: () => { if (this.stream === stream) this.stream = null; },
    });
    this.stream = stream;
  }

  on(event) {
    switch (event.kind) {
      case "snapshot":
        this.session = event.session;
        // Presence is keyed by the participant's id (the token's subject): two people may share a name.
        this.participants = new Map((event.participants ?? []).map(p => [p.id, p]));
        this.annotations = event.annotations ?? [];
        for (const id of this.session.sensorIds) this.charts.open(id);
        break;
      case "joined": this.participants.set(event.participant.id, event.participant); break;
      case "left": this.participants.delete(event.participant.id); break;
      case "annotated": this.annotations.push(event.annotation); break;
      case "sensorsChanged": this.session.sensorIds = event.sensorIds; break;
      case "ended": this.ended = true; break;
    }
    this.charts.setAnnotations(this.annotations);
    this.render();
  }

  async annotate(text) {
    if (!text.trim() || !this.session) return;
    await this.client.annotate(this.session.id, { text, sensorId: null, sequence: null });
    $("#annotation-text", this.root).value = "";
  }

  async end() { if (this.session) await this.client.endSession(this.session.id); }

  render() {
    const s = this.session;
    const state = $("#session-state", this.root);
    this.root.dataset.state = this.ended ? "ended" : s?.title ? "joined" : "none";
    state.textContent = !s ? "No session." : this.ended ? `Session “${s.title}” has ended.` : `In session “${s.title}” (owner ${s.owner}).`;
    const link = new URL(location.href);
    link.search = ""; link.searchParams.set("session", s.id);
    $("#session-link", this.root).replaceChildren(s && !this.ended ? el("a", { href: link.href }, link.href) : "");
    const people = [...this.participants.values()];
    const shared = name => people.filter(p => p.name === name).length > 1;
    $("#session-people", this.root).replaceChildren(...people.map(p => {
      // The name is what is shown; where two participants share it, their ids tell them apart.
      const who = shared(p.name) ? `${p.name} (${p.id})` : p.name;
      return el("li", { dataset: { user: p.name, id: p.id }, title: p.id }, p.connections > 1 ? `${who} (${p.connections} tabs)` : who);
    }));
    $("#session-annotations", this.root).replaceChildren(...this.annotations.map(a =>
      el("li", {}, el("time", {}, toDate(a.time).toLocaleTimeString()), ` ${a.author}: `, el("span", { class: "text" }, a.text))));
    $("#session-live", this.root).hidden = !s || this.ended;
  }
}
