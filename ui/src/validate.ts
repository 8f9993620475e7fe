// Validation of what the user types as a registry, mirroring the engine's rules so mistakes show
// while typing. The engine checks again; this is for feedback, not for security.

/** ACR's own rule for registry names. */
const NAME = /^[a-zA-Z0-9]{5,50}$/;
/** The first label of a login server: the name, optionally with the "-<hash>" of a domain name label scope. */
const SERVER_LABEL = /^[a-z0-9]{5,50}(-[a-z0-9]+)?$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type Parsed =
  | { kind: "empty" }
  /** `later`: only worth showing once the user has left the field (e.g. "too short" while typing). */
  | { kind: "error"; message: string; later?: boolean }
  | { kind: "name"; name: string; loginServer: string }
  | { kind: "loginServer"; loginServer: string }
  /** A host outside the cloud's registry domain: Azure tokens go there only if the user trusts it. */
  | { kind: "custom"; host: string; lookalike: boolean };

export function parseRegistry(raw: string, acrSuffix: string): Parsed {
  const input = raw.trim();
  if (input === "") return { kind: "empty" };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input) || input.includes("/")) {
    return { kind: "error", message: "Enter only the host name, without https:// or a path." };
  }
  if (!input.includes(".")) return parseName(input, acrSuffix);

  const host = input.toLowerCase();
  const suffix = acrSuffix.toLowerCase().replace(/^\.+/, "");
  // Only a dot-separated suffix counts: "evilazurecr.io" or "azurecr.io.evil" are not inside it.
  if (host.endsWith("." + suffix)) {
    const label = host.slice(0, -(suffix.length + 1));
    if (label.includes(".")) {
      return { kind: "error", message: `A login server is <name>.${suffix}, with no further dots before ${suffix}.` };
    }
    if (!SERVER_LABEL.test(label)) {
      return { kind: "error", message: `"${label}" is not a registry name: use 5–50 letters and digits.` };
    }
    return { kind: "loginServer", loginServer: host };
  }
  if (host === suffix) return { kind: "error", message: `Put the registry name in front: <name>.${suffix}.` };
  if (!isHost(host)) return { kind: "error", message: "This is not a valid host name." };
  // "x.azurecr.io.attacker.com" reads like Azure but belongs to attacker.com: say so plainly.
  const lookalike = ("." + host + ".").includes("." + suffix + ".");
  return { kind: "custom", host, lookalike };
}

function parseName(name: string, acrSuffix: string): Parsed {
  if (NAME.test(name)) return { kind: "name", name, loginServer: `${name.toLowerCase()}.${acrSuffix}` };
  if (/[^a-zA-Z0-9]/.test(name)) {
    return { kind: "error", message: "Registry names have only letters and digits (no dashes, spaces or underscores)." };
  }
  if (name.length < 5) return { kind: "error", message: "Too short: registry names have 5 to 50 letters and digits.", later: true };
  return { kind: "error", message: "Too long: registry names have 5 to 50 letters and digits." };
}

/** A DNS name with an optional port (custom clouds such as Azure Stack or the fake use ports). */
function isHost(host: string): boolean {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m || !m[1]) return false;
  if (m[2] !== undefined && Number(m[2]) > 65535) return false;
  const labels = m[1].split(".");
  return labels.length >= 2 && labels.every((l) => HOST_LABEL.test(l));
}
