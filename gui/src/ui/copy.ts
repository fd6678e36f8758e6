import { toast, toastError } from "./toast";

/** Copies text; falls back to a hidden textarea where the Clipboard API is not allowed (plain
 * http on a LAN address is not a secure context). */
export async function copyText(text: string, what = "Copied"): Promise<void> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      const ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      const ok = document.execCommand("copy");
      ta.remove();
      if (!ok) throw new Error("the browser refused to copy; select the text and copy it by hand");
    }
    toast(what);
  } catch (e) {
    toastError(e);
  }
}
