// Every merge of profiles, newest first, with undo (admin).
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api } from "../api";
import { MergeDrawer, mergeColumns, UndoMerge, type MergeRecord } from "../data/merges";
import { useApi, useDebounced } from "../ui/hooks";
import { Async, Button, Empty, Page, Pager, Table } from "../ui/kit";
import "../data/data.css";

const SIZE = 25;

export default function Merges() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(0, parseInt(params.get("page") ?? "0", 10) || 0);
  const [profile, setProfile] = useState(params.get("profile") ?? "");
  const who = useDebounced(profile.trim(), 400);
  const [open, setOpen] = useState<string>();
  const [undo, setUndo] = useState<MergeRecord>();
  const list = useApi(
    (signal) =>
      api.get<{ total: number; result: MergeRecord[] }>("/merges", {
        query: { profile: who || undefined, start: page * SIZE, limit: SIZE },
        signal,
      }),
    [who, page],
  );
  const setPage = (n: number) => {
    const p = new URLSearchParams(params);
    if (n) p.set("page", String(n));
    else p.delete("page");
    setParams(p);
  };
  return (
    <Page
      title="Merges"
      subtitle="Profiles of one person merged into one: by shared ids, workflows, identification points, imports or by hand."
      actions={<Button onClick={list.reload}>Refresh</Button>}
    >
      <div className="card data-query">
        <div className="field" style={{ maxWidth: 480 }}>
          <label htmlFor="merge-profile">Profile id</label>
          <input
            id="merge-profile"
            className="mono"
            value={profile}
            placeholder="Any id of a person, to see only their merges"
            onChange={(e) => {
              setProfile(e.target.value);
              const p = new URLSearchParams(params);
              p.delete("page");
              if (e.target.value.trim()) p.set("profile", e.target.value.trim());
              else p.delete("profile");
              setParams(p, { replace: true });
            }}
          />
        </div>
      </div>
      <Async
        value={list}
        empty={(d) => !d.result.length}
        emptyView={
          <Empty title={who ? "No merges of this person" : "No merges yet"}>
            Profiles are merged when they come to share an id (an e-mail or phone), by the Merge profiles node, by identification
            points, or by hand with POST /profiles/merge.
          </Empty>
        }
      >
        {(d) => (
          <>
            <Table rows={d.result} columns={mergeColumns({ onUndo: setUndo })} rowKey={(m) => m.id} onRow={(m) => setOpen(m.id)} selected={open} />
            <Pager page={page} size={SIZE} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>
      {open && <MergeDrawer key={open + String(list.data?.result.find((m) => m.id === open)?.undone)} id={open} onClose={() => setOpen(undefined)} onUndo={setUndo} />}
      {undo && (
        <UndoMerge
          merge={undo}
          onClose={() => setUndo(undefined)}
          onDone={() => {
            setOpen(undefined);
            list.reload();
          }}
        />
      )}
    </Page>
  );
}
