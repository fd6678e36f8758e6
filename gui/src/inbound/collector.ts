import { useState } from "react";
import { defaultCollectorUrl } from "./snippet";

const KEY = "cdpd.collectorUrl";

/** The collector URL typed in the snippet and tester screens, remembered in this browser. */
export function useCollectorUrl(): [string, (v: string) => void] {
  const [url, setUrl] = useState(() => localStorage.getItem(KEY) || defaultCollectorUrl());
  return [
    url,
    (v: string) => {
      setUrl(v);
      if (v.trim()) localStorage.setItem(KEY, v.trim());
      else localStorage.removeItem(KEY);
    },
  ];
}
