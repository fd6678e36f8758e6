// The "Use" tab of an event source: how a site or a server sends events to it.
import { useState } from "react";
import { useDataContext } from "../ui/hooks";
import { Badge, Button, TextField } from "../ui/kit";
import { useCollectorUrl } from "./collector";
import { copyText } from "../ui/copy";
import { curlTrack, curlWebhook, jsSnippet, webhookUrl } from "./snippet";
import type { EventSource } from "./types";
import "./inbound.css";

export function UsePanel({ source }: { source: EventSource }) {
  const [collector, setCollector] = useCollectorUrl();
  const ctx = useDataContext();
  const [eventType, setEventType] = useState("newsletter-signup");
  const rest = source.type?.includes("rest");
  const webhook = source.type?.includes("webhook");
  const js = jsSnippet(collector, source.id, source.name);
  const curl = curlTrack(collector, source.id);
  const hook = webhookUrl(collector, eventType, source.id);
  return (
    <div className="inb-use">
      <TextField
        label="Collector URL"
        value={collector}
        onChange={setCollector}
        mono
        hint="Where browsers and servers reach cdpd's collector (its --listen address; port 8686 by default). Remembered in this browser."
      />
      {ctx === "staging" && (
        <p className="inb-note">
          This is a staging source: it takes events only at a collector started with <code>--context staging</code>. Deploy to production
          for your live site.
        </p>
      )}
      {!source.enabled && (
        <p className="inb-note inb-note-warn">This source is disabled: the collector answers 403 until it is enabled.</p>
      )}
      {!rest && !webhook && (
        <p className="inb-note inb-note-warn">
          This source has neither the REST API nor the Webhook bridge type, so the collector refuses its traffic. Edit it and tick REST
          API to use the snippet.
        </p>
      )}
      {rest && (
        <>
          <Snippet
            title="JavaScript snippet"
            text={js}
            copyLabel="Copy snippet"
            hint={
              <>
                Paste it into the pages of your site, before <code>&lt;/head&gt;</code>. It sends a <code>page-view</code> on load, keeps the
                profile id in localStorage and the session id in sessionStorage, and gives the page{" "}
                <code>window.cdpd.track(type, properties)</code> for other events.
              </>
            }
          />
          <Snippet title="REST API (curl)" text={curl} copyLabel="Copy curl command" hint="For servers and back ends. The answer carries the profile and session ids." />
        </>
      )}
      {webhook && (
        <section className="inb-snippet">
          <h3>
            Webhook <Badge tone="info">/collect</Badge>
          </h3>
          <TextField label="Webhook event type" value={eventType} onChange={setEventType} mono hint="Each event type has its own URL." />
          <Snippet
            title="Webhook URL"
            text={hook}
            copyLabel="Copy webhook URL"
            hint="GET with a query string, or POST JSON or a form; the properties of the event are the data sent. Add /<session id> for an event with a profile."
          />
          <Snippet title="Webhook call (curl)" text={curlWebhook(hook)} copyLabel="Copy webhook curl command" />
        </section>
      )}
    </div>
  );
}

function Snippet(props: { title: string; text: string; copyLabel: string; hint?: React.ReactNode }) {
  return (
    <section className="inb-snippet">
      <div className="inb-snippet-head">
        <h3>{props.title}</h3>
        <Button small onClick={() => copyText(props.text, `${props.title} copied`)}>
          {props.copyLabel}
        </Button>
      </div>
      {props.hint && <p className="muted small inb-snippet-hint">{props.hint}</p>}
      <pre className="code inb-code" aria-label={props.title} tabIndex={0}>
        {props.text}
      </pre>
    </section>
  );
}
