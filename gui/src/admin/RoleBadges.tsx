import { Badge } from "../ui/kit";

/** A user's roles as badges, admin highlighted. */
export function RoleBadges({ roles }: { roles: string[] }) {
  return (
    <span className="adm-badges">
      {roles.map((r) => (
        <Badge key={r} tone={r === "admin" ? "info" : "neutral"}>
          {r}
        </Badge>
      ))}
    </span>
  );
}
