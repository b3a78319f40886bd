// Sessions over both protocols: a join that loses its connection joins again by itself, starting with a fresh
// snapshot, and goes on receiving events; ending the session ends the stream.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PROTOCOLS, connect, startServer, until } from "./helpers.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

for (const protocol of PROTOCOLS) {
  describe(`sessions over ${protocol}`, () => {
    test("a joined session rejoins after a drop with a fresh snapshot and goes on", async () => {
      const owner = await connect(server.url, { protocol, name: `owner-${protocol}` });
      const guest = await connect(server.url, { protocol, name: `guest-${protocol}`, roles: ["viewer"] });
      try {
        const info = await owner.createSession({ title: `js ${protocol}`, sensorIds: [] });
        assert.equal(info.ownerId, `owner-${protocol}`);
        assert.ok((await guest.listSessions()).some(s => s.id === info.id), "the guest lists it");
        const events = [];
        let closed = null;
        guest.joinSession(info.id, { onEvent: e => events.push(e), onClose: error => { closed = { error }; } });
        await until(() => events.some(e => e.kind === "snapshot"), { what: "the snapshot" });
        const first = events.find(e => e.kind === "snapshot");
        assert.equal(first.session.id, info.id);
        assert.ok(first.participants.some(p => p.id === `guest-${protocol}`));

        await owner.annotate(info.id, { text: "before the drop" });
        await until(() => events.some(e => e.kind === "annotated"), { what: "the first annotation" });
        await guest.simulateDrop();
        await until(() => events.filter(e => e.kind === "snapshot").length === 2, { what: "the rejoin's snapshot" });
        const second = events.filter(e => e.kind === "snapshot")[1];
        assert.ok(second.annotations.some(a => a.text === "before the drop" && a.time instanceof Date), "the snapshot carries the earlier annotation, its time a Date");

        await owner.annotate(info.id, { text: "after the drop" });
        await until(() => events.some(e => e.kind === "annotated" && e.annotation.text === "after the drop"), { what: "the annotation after the rejoin" });
        await owner.endSession(info.id);
        await until(() => closed !== null, { what: "the stream to end after 'ended'" });
        assert.equal(closed.error, null);
        assert.equal(events.at(-1).kind, "ended");
        await assert.rejects(owner.annotate(info.id, { text: "too late" }), error => error.code === "unknown_session");
      } finally {
        await guest.stop();
        await owner.stop();
      }
    });
  });
}
