import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../../config.ts';
import { badInput } from '../../errors.ts';
import type { Store } from '../store/store.ts';

/** The license file format (docs/license.md). */
export const LICENSE_FORMAT = 'spectro-license/1';
const INSTALLATION_ID_SETTING = 'installation.id';
const VENDOR_KEY_FILE = new URL('./vendor-public-key.pem', import.meta.url);
/** The same key as vendor-public-key.pem, for builds that do not ship the .pem next to this file. */
export const VENDOR_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAXA5WwHq30XiIVDQgZJlGfy0pekHrzzCidKF0PCfLlx4=
-----END PUBLIC KEY-----
`;

export interface LicensePayload {
  licensee: string;
  /** The installation it is for (see nodeHash), or "*" for any. */
  nodeHash: string;
  /** ISO-8601 instant; null for a perpetual license. */
  expiresAt: string | null;
  features: string[];
  issuedAt?: string;
}

export interface LicenseDocument {
  format: typeof LICENSE_FORMAT;
  payload: LicensePayload;
  /** Ed25519 signature over canonicalJson(payload), base64. */
  signature: string;
}

export interface LicenseState {
  licensee: string;
  expiresAt: string | null;
  features: string[];
  /** Signed by the configured key, for this installation, and not expired (checked on every read). */
  valid: boolean;
}

export interface LicenseService {
  nodeHash(): Promise<string>;
  /** Validates and stores a license document (the file's text). BAD_USER_INPUT says what is wrong. */
  install(document: string): Promise<LicenseState>;
  /** The installed license, or null when none is. */
  current(): Promise<LicenseState | null>;
}

/** JSON with object keys sorted at every level and no whitespace: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Signs a payload with an Ed25519 private key (PEM); used by scripts/issue-license.ts and tests. */
export function signLicense(payload: LicensePayload, privateKeyPem: string): LicenseDocument {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the license signing key must be an Ed25519 private key');
  const signature = sign(null, Buffer.from(canonicalJson(payload)), key).toString('base64');
  return { format: LICENSE_FORMAT, payload, signature };
}

/** Stable per installation: sha256 of a random installation id made on first use and kept in settings. */
export async function nodeHash(store: Store): Promise<string> {
  const id = await store.initSetting(INSTALLATION_ID_SETTING, randomUUID());
  return createHash('sha256').update(`spectro-node:${id}`).digest('hex');
}

/** PEM text, or the path of a PEM file; null means the committed vendor key. */
export function loadPublicKey(configured: string | null): KeyObject {
  const pem = !configured
    ? fs.existsSync(VENDOR_KEY_FILE)
      ? fs.readFileSync(VENDOR_KEY_FILE, 'utf8')
      : VENDOR_PUBLIC_KEY_PEM
    : configured.includes('-----BEGIN')
      ? configured
      : fs.readFileSync(configured, 'utf8');
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('LICENSE_PUBLIC_KEY must be an Ed25519 public key');
  return key;
}

function parseDocument(text: string): LicenseDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw badInput('the license file is not valid JSON');
  }
  const d = doc as Partial<LicenseDocument> | null;
  const p = d?.payload as Partial<LicensePayload> | undefined;
  if (!d || typeof d !== 'object' || d.format !== LICENSE_FORMAT) {
    throw badInput(`the license file is not a ${LICENSE_FORMAT} document`);
  }
  if (
    !p ||
    typeof p.licensee !== 'string' ||
    typeof p.nodeHash !== 'string' ||
    !(p.expiresAt === null || (typeof p.expiresAt === 'string' && !Number.isNaN(Date.parse(p.expiresAt)))) ||
    !Array.isArray(p.features) ||
    !p.features.every((f) => typeof f === 'string') ||
    typeof d.signature !== 'string'
  ) {
    throw badInput('the license file is missing licensee, nodeHash, expiresAt, features or signature');
  }
  return d as LicenseDocument;
}

type Check = { ok: true } | { ok: false; reason: string };

function check(doc: LicenseDocument, key: KeyObject, node: string, nowMs: number): Check {
  const signed = verify(null, Buffer.from(canonicalJson(doc.payload)), key, Buffer.from(doc.signature, 'base64'));
  if (!signed) return { ok: false, reason: 'the license signature is not valid (file altered or signed by another key)' };
  if (doc.payload.nodeHash !== '*' && doc.payload.nodeHash !== node) {
    return { ok: false, reason: `the license is for another installation (this one is ${node})` };
  }
  if (doc.payload.expiresAt !== null && Date.parse(doc.payload.expiresAt) <= nowMs) {
    return { ok: false, reason: `the license expired at ${doc.payload.expiresAt}` };
  }
  return { ok: true };
}

/** `now` returns epoch milliseconds. */
export function createLicenseService(deps: { store: Store; config: Config; now?: () => number }): LicenseService {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const key = loadPublicKey(deps.config.licensePublicKey);
  const stateOf = (doc: LicenseDocument, valid: boolean): LicenseState => ({
    licensee: doc.payload.licensee,
    expiresAt: doc.payload.expiresAt === null ? null : new Date(doc.payload.expiresAt).toISOString(),
    features: doc.payload.features,
    valid,
  });

  return {
    nodeHash: () => nodeHash(store),

    async install(text) {
      const doc = parseDocument(text.trim());
      const result = check(doc, key, await nodeHash(store), now());
      if (!result.ok) throw badInput(result.reason);
      const state = stateOf(doc, true);
      await store.setLicense({ document: JSON.stringify(doc), expiresAt: state.expiresAt, installedAt: new Date(now()).toISOString() });
      return state;
    },

    async current() {
      const stored = await store.license();
      if (!stored) return null;
      let doc: LicenseDocument;
      try {
        doc = parseDocument(stored.document);
      } catch {
        return { licensee: '', expiresAt: stored.expiresAt, features: [], valid: false };
      }
      return stateOf(doc, check(doc, key, await nodeHash(store), now()).ok);
    },
  };
}
