// The tracker payload the event tester sends, and where it sends it.
import { normalizeCollectorUrl } from "./snippet";

export interface TesterForm {
  sourceId: string;
  profileId: string;
  sessionId: string;
  eventType: string;
  properties: unknown;
  tags: string[];
  sessionProperties: unknown;
  debug: boolean;
  profileLess: boolean;
  browserContext: boolean;
}

export interface BrowserInfo {
  userAgent: string;
  language: string;
  width: number;
  height: number;
  tz: string | null;
  url: string;
}

/** Only objects may be properties; anything else goes as an empty object. */
function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function buildPayload(f: TesterForm, browser?: BrowserInfo): Record<string, unknown> {
  const event: Record<string, unknown> = { type: f.eventType.trim(), properties: obj(f.properties) };
  if (f.tags.length) event.tags = f.tags;
  const p: Record<string, unknown> = { source: { id: f.sourceId } };
  if (f.sessionId.trim()) p.session = { id: f.sessionId.trim() };
  if (f.profileId.trim() && !f.profileLess) p.profile = { id: f.profileId.trim() };
  if (f.browserContext && browser) {
    p.context = {
      browser: { local: { browser: { userAgent: browser.userAgent, language: browser.language } } },
      screen: { local: { width: browser.width, height: browser.height } },
      ...(browser.tz ? { time: { tz: browser.tz } } : {}),
    };
    event.context = { page: { url: browser.url, title: "cdpd event tester" } };
  }
  const sp = obj(f.sessionProperties);
  if (Object.keys(sp).length) p.properties = sp;
  if (f.debug) p.options = { debugger: true };
  p.events = [event];
  return p;
}

export function trackUrl(collectorUrl: string, profileLess: boolean): string {
  return normalizeCollectorUrl(collectorUrl) + "/track" + (profileLess ? "?profile_less=true" : "");
}

/** What is wrong with the form before sending, or undefined. */
export function testerProblem(f: TesterForm, collectorUrl: string): string | undefined {
  if (!normalizeCollectorUrl(collectorUrl)) return "Enter the collector URL.";
  if (!f.sourceId) return "Choose an event source.";
  if (!f.eventType.trim()) return "Enter an event type.";
  return undefined;
}
