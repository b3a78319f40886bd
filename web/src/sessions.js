// Live sessions: create one on the open charts, share its link, see who is present, annotate, end it.
import { el, $, toDate } from "./dom.js";
import { Codes, codeOf, textOf } from "./errors.js";

export class Sessions {
  constructor({ hub, subscriptions, charts, root }) {
    Object.assign(this, { hub, subscriptions, charts, root });
    this.session = null;
    this.participants = new Map();
    this.annotations = [];
    this.subscription = null;
    $("#session-create", root).addEventListener("submit", e => { e.preventDefault(); this.create($("#session-title", root).value).catch(err => this.fail(err)); });
    $("#session-annotate", root).addEventListener("submit", e => { e.preventDefault(); this.annotate($("#annotation-text", root).value).catch(err => this.fail(err)); });
    $("#session-end", root).addEventListener("click", () => this.end().catch(err => this.fail(err)));
    hub.onReconnected(() => { if (this.session && this.subscription === null && !this.ended) this.join(this.session.id); });
  }

  fail(error) { $("#session-state", this.root).textContent = textOf(error); }

  async create(title) {
    await this.hub.ready();
    const info = await this.hub.invoke("CreateSession", { title: title || "Session", sensorIds: this.charts.ids, private: false, invited: null });
    this.join(info.id);
    return info;
  }

  join(id) {
    if (this.subscription) this.subscriptions.remove(this, this.subscription);
    this.ended = false;
    this.session = { id };
    this.subscription = this.subscriptions.add(this, this.hub.stream("JoinSession", id), {
      next: event => this.on(event),
      error: error => {
        this.subscription = null;
        const code = codeOf(error);
        // The server dropped a stream that could not keep up: a fresh snapshot puts the page right again.
        if (code === Codes.fellBehind) { if (this.hub.isConnected) this.join(id); return; }
        // The node lost its backend: reconnect (perhaps to another node) and rejoin there, as after a drop.
        if (code === Codes.backendUnavailable) { this.hub.failOver(textOf(error)); return; }
        // A refusal (unknown session, full, not allowed) is shown, and the session is not joined again on reconnect.
        if (code !== null) { this.session = null; this.fail(error); return; }
        // A drop (no code) is rejoined on reconnect, with a fresh snapshot. SignalR fails the streams just before it
        // switches to reconnecting: look at the state after that.
        setTimeout(() => { if (this.hub.isConnected) this.fail(error); }, 0);
      },
      complete: () => { this.subscription = null; },
    });
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
    await this.hub.invoke("Annotate", this.session.id, { text, sensorId: null, sequence: null });
    $("#annotation-text", this.root).value = "";
  }

  async end() { if (this.session) await this.hub.invoke("EndSession", this.session.id); }

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
