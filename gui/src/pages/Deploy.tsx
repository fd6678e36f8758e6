// Maintenance → Deployment: copy staging's configuration to production (admin only).
import { useState } from "react";
import { api, setContext } from "../api";
import { useApi, useDataContext } from "../ui/hooks";
import { Async, Badge, Button, Card, Confirm, Empty, Page, Toggle } from "../ui/kit";
import { toast } from "../ui/toast";
import { deployRows, stagingLooksEmpty, type DeployReport } from "../admin/helpers";
import { KindsTable, Summary } from "../admin/DeployReport";
import "../admin/admin.css";

export default function Deploy() {
  const ctx = useDataContext();
  // the deploy routes always compare staging with production, whatever the menu's context
  const dry = useApi((signal) => api.get<DeployReport>("/production/dry-run", { signal, context: "production" }), []);
  const [asking, setAsking] = useState(false);
  const [allowEmpty, setAllowEmpty] = useState(false);
  const [result, setResult] = useState<DeployReport>();

  const pending = dry.data ? dry.data.added + dry.data.changed + dry.data.removed : 0;
  const empty = stagingLooksEmpty(dry.data);

  return (
    <Page
      title="Deployment"
      subtitle="Build and try configuration in staging, then deploy it to production in one step."
      actions={
        <Button onClick={dry.reload} busy={dry.loading && !!dry.data}>
          Check again
        </Button>
      }
    >
      <div className="stack">
        <Card title="Staging and production">
          <p className="muted" style={{ marginTop: 0 }}>
            The <strong>Production / Staging</strong> switch at the top of the menu decides which data the whole GUI shows and
            edits. You are working on{" "}
            <Badge tone={ctx === "staging" ? "warn" : "ok"}>{ctx === "staging" ? "Staging" : "Production"}</Badge> now.
          </p>
          <div className="adm-explain">
            <div>
              <h3>Production</h3>
              <p className="muted">
                What the live collector runs: its event sources, workflows, rules, segments and the rest, and the profiles, sessions
                and events it collects.
              </p>
            </div>
            <div>
              <h3>Staging</h3>
              <p className="muted">
                A separate copy to build and test in, on test traffic (a collector run with <code>--context staging</code>). Nothing
                there reaches production until you deploy it.
              </p>
            </div>
          </div>
          <p className="muted small" style={{ marginBottom: 0 }}>
            Deploying makes production's configuration exactly staging's: entities are added, replaced when different, and removed
            when staging has none of that id. Users, the audit log, profiles, sessions and events are never copied.
            {ctx === "production" && (
              <>
                {" "}
                <Button small kind="ghost" onClick={() => setContext("staging")}>
                  Switch to staging
                </Button>
              </>
            )}
          </p>
        </Card>

        {result && (
          <Card title="Last deployment">
            <p className="muted" style={{ marginTop: 0 }}>
              {result.deployed ? "Deployed. The production collector runs the new configuration from its next batch." : "Nothing was deployed."}
            </p>
            <Summary r={result} />
            {deployRows(result).some((r) => r.added.length + r.changed.length + r.removed.length) && <KindsTable rows={deployRows(result)} />}
          </Card>
        )}

        <Card
          title="What deploying would change"
        >
          <Async value={dry}>
            {(d) => (
              <>
                <Summary r={d} />
                {pending === 0 ? (
                  <Empty title={Object.keys(d.kinds ?? {}).length ? "Production already matches staging" : "Staging holds no configuration yet"}>
                    {Object.keys(d.kinds ?? {}).length
                      ? "There is nothing to deploy."
                      : "Switch the menu to Staging and create event sources, workflows or rules there first."}
                  </Empty>
                ) : (
                  <>
                    {empty && (
                      <p className="adm-note">
                        Staging holds no configuration at all: deploying would remove everything production has. The server refuses
                        that unless you say so when deploying.
                      </p>
                    )}
                    <KindsTable rows={deployRows(d)} />
                  </>
                )}
                <div className="adm-deploy-bar">
                  <span className="muted">
                    {pending === 0 ? "Nothing to deploy." : `Production will get ${pending} change${pending === 1 ? "" : "s"}.`}
                  </span>
                  <Button kind="primary" disabled={pending === 0} onClick={() => setAsking(true)}>
                    Deploy staging to production
                  </Button>
                </div>
              </>
            )}
          </Async>
        </Card>

      </div>
      {asking && dry.data && (
        <Confirm
          title="Deploy staging to production"
          confirm="Deploy"
          text={
            <>
              Production will get staging's configuration: {dry.data.added} added, {dry.data.changed} changed, {dry.data.removed}{" "}
              removed. This cannot be undone from here.
              {empty && (
                <span style={{ display: "block", marginTop: 10 }}>
                  <Toggle label="Yes, remove all of production's configuration" checked={allowEmpty} onChange={setAllowEmpty} />
                </span>
              )}
            </>
          }
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            const r = await api.get<DeployReport>("/production/deploy", {
              context: "production",
              query: empty && allowEmpty ? { allow_empty: "true" } : undefined,
            });
            setResult(r);
            toast("Deployed staging to production");
            dry.reload();
          }}
        />
      )}
    </Page>
  );
}
