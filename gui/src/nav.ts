// The menu and the routes in one table: what each role sees is decided here.
import { lazy } from "react";
import { ROLES, type Role } from "./api";
import type { IconName } from "./ui/icons";

export interface NavItem {
  path: string; // route pattern under the hash, e.g. "/flows"
  label: string;
  roles: readonly Role[];
  menu?: boolean; // shown in the menu (detail routes are not)
  icon?: IconName; // ui/icons.tsx
  page: React.LazyExoticComponent<React.ComponentType>;
}
export interface NavSection {
  title: string;
  items: NavItem[];
}

const p = (load: () => Promise<{ default: React.ComponentType }>) => lazy(load);

export const NAV: NavSection[] = [
  {
    title: "",
    items: [{ path: "/", label: "Dashboard", icon: "dashboard", roles: ROLES.any, menu: true, page: p(() => import("./pages/Dashboard")) }],
  },
  {
    title: "Data",
    items: [
      { path: "/data/events", label: "Events", icon: "events", roles: ROLES.any, menu: true, page: p(() => import("./pages/Explorer")) },
      { path: "/data/profiles", label: "Profiles", icon: "profiles", roles: ROLES.any, menu: true, page: p(() => import("./pages/Explorer")) },
      { path: "/data/sessions", label: "Sessions", icon: "sessions", roles: ROLES.any, menu: true, page: p(() => import("./pages/Explorer")) },
      { path: "/data/profiles/:id", label: "Profile", roles: ROLES.any, page: p(() => import("./pages/ProfileDetail")) },
      { path: "/merges", label: "Merges", icon: "merges", roles: ROLES.admin, menu: true, page: p(() => import("./pages/Merges")) },
    ],
  },
  {
    title: "Inbound",
    items: [
      { path: "/sources", label: "Event sources", icon: "sources", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Sources")) },
      { path: "/test", label: "Event tester", icon: "tester", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/EventTester")) },
    ],
  },
  {
    title: "Automation",
    items: [
      { path: "/flows", label: "Workflows", icon: "workflows", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Flows")) },
      { path: "/flows/:id", label: "Workflow editor", roles: ROLES.adminDev, page: p(() => import("./pages/FlowEditor")) },
      { path: "/rules", label: "Trigger rules", icon: "rules", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Rules")) },
    ],
  },
  {
    title: "Audience",
    items: [
      { path: "/segments", label: "Segments", icon: "segments", roles: ROLES.marketing, menu: true, page: p(() => import("./pages/Segments")) },
      { path: "/consents", label: "Consent types", icon: "consents", roles: ROLES.marketing, menu: true, page: p(() => import("./pages/Consents")) },
      { path: "/identification", label: "Identification points", icon: "identification", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Identification")) },
    ],
  },
  {
    title: "Event processing",
    items: [
      { path: "/mappings", label: "Event to profile", icon: "mappings", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Mappings")) },
      { path: "/validators", label: "Event validation", icon: "validators", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Validators")) },
      { path: "/reshaping", label: "Event reshaping", icon: "reshaping", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Reshaping")) },
      { path: "/event-types", label: "Built-in event types", icon: "eventTypes", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/EventTypes")) },
    ],
  },
  {
    title: "Outbound",
    items: [
      { path: "/destinations", label: "Destinations", icon: "destinations", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Destinations")) },
      { path: "/resources", label: "Resources", icon: "resources", roles: ROLES.adminDev, menu: true, page: p(() => import("./pages/Resources")) },
    ],
  },
  {
    title: "Administration",
    items: [
      { path: "/users", label: "Users", icon: "users", roles: ROLES.admin, menu: true, page: p(() => import("./pages/Users")) },
      { path: "/settings", label: "Settings", icon: "settings", roles: ROLES.marketing, menu: true, page: p(() => import("./pages/Settings")) },
      { path: "/deploy", label: "Deployment", icon: "deploy", roles: ROLES.admin, menu: true, page: p(() => import("./pages/Deploy")) },
      { path: "/audit", label: "Audit log", icon: "audit", roles: ROLES.admin, menu: true, page: p(() => import("./pages/Audit")) },
      { path: "/account", label: "My account", roles: ROLES.any, page: p(() => import("./pages/Account")) },
    ],
  },
];
