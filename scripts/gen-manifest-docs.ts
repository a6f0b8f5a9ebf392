// Generates the reference part of docs/manifest.md (every field, type, default, meaning) from schemas/fleet.schema.json.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deref, manifestSchema, refName, type SchemaNode } from '../src/manifest/schema.js';

/** The committed document. */
export const DOC_URL = new URL('../docs/manifest.md', import.meta.url);

/** Everything above this line is written by hand and kept; everything below is generated. */
export const MARKER =
  '<!-- Everything below is generated from schemas/fleet.schema.json by scripts/gen-manifest-docs.ts: edit the schema, not this. -->';

/** Short names for the value kinds the schema defines once and uses everywhere. */
const KIND_LABELS: Record<string, string> = {
  safeWord: 'safe word',
  nonEmptyString: 'non-empty string',
  path: 'path',
  absolutePath: 'absolute path',
  flakeRef: 'flake ref',
  endpoint: 'endpoint',
  publicKey: 'public key',
  sshOption: 'ssh option',
  seconds: 'seconds',
  argv: 'command',
};

interface Section {
  heading: string;
  node: SchemaNode;
  /** Where else these fields are used. */
  note?: string;
}

const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** Prose from the schema: `<host>` would otherwise be taken for an HTML tag. */
const prose = (text: string): string => text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (text: string): string => `\`${text}\``;

function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{${entries.map(([k, v]) => `${k}: ${inline(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** Property nodes whose fields get a section of their own. */
function hasFields(node: SchemaNode, root: SchemaNode): boolean {
  return deref(node, root).properties !== undefined;
}

/** Renders the generated part of the document. */
export function renderReference(root: SchemaNode = manifestSchema()): string {
  const sections: Section[] = [];
  const headingOf = new Map<SchemaNode, string>();

  const visit = (heading: string, node: SchemaNode, note?: string): void => {
    const target = deref(node, root);
    if (headingOf.has(target)) return;
    headingOf.set(target, heading);
    sections.push({ heading, node: target, ...(note ? { note } : {}) });
    for (const [key, child] of Object.entries(target.properties ?? {})) {
      const prefix = heading === 'Top level' ? '' : `${heading}.`;
      const items = deref(child, root).items;
      const mapOf = deref(child, root).additionalProperties;
      if (hasFields(child, root)) visit(`${prefix}${key}`, child);
      else if (items && hasFields(items, root)) visit(`${prefix}${key}[]`, items);
      else if (typeof mapOf === 'object' && hasFields(mapOf, root)) visit(`${prefix}${key}.<name>`, mapOf);
    }
  };
  headingOf.set(root, 'Top level');
  sections.push({ heading: 'Top level', node: root });
  // Hosts first: `defaults` refers to the same definition and should link to `hosts.<name>`.
  const rootKeys = Object.keys(root.properties ?? {}).sort((a, b) => Number(b === 'hosts') - Number(a === 'hosts'));
  for (const key of rootKeys) {
    const child = root.properties?.[key] as SchemaNode;
    const mapOf = deref(child, root).additionalProperties;
    if (typeof mapOf === 'object' && hasFields(mapOf, root)) {
      visit(`${key}.<name>`, mapOf, 'The same fields are accepted under `defaults`.');
    } else if (hasFields(child, root)) visit(key, child);
  }

  const link = (node: SchemaNode): string | undefined => {
    const heading = headingOf.get(deref(node, root));
    return heading ? `[${code(heading)}](#${anchorOf(heading)})` : undefined;
  };

  const typeOf = (node: SchemaNode): string => {
    if (node.$ref !== undefined) {
      const label = KIND_LABELS[refName(node.$ref)];
      if (label) return `[${label}](#${anchorOf(label)})`;
      return typeOf(deref(node, root));
    }
    if (node.const !== undefined) return `\`${inline(node.const)}\``;
    if (node.enum) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
    const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
    const words = types.map((type) => {
      // `hostKey: "ssh-ed25519 …" | [...]`: the string form is the same kind as the items.
      const items = node.items ? deref(node.items, root) : undefined;
      if (type === 'string' && node.pattern !== undefined && items?.pattern === node.pattern && node.items) {
        return typeOf(node.items);
      }
      switch (type) {
        case 'integer': {
          const { minimum: min, maximum: max } = node;
          if (min !== undefined && max !== undefined) return `integer ${min}–${max}`;
          if (min !== undefined) return `integer ≥ ${min}`;
          return 'integer';
        }
        case 'array': {
          const items = node.items ? typeOf(node.items) : 'values';
          return `${(node.minItems ?? 0) > 0 ? 'non-empty ' : ''}list of ${items}`;
        }
        case 'object': {
          if (typeof node.additionalProperties === 'object') {
            return `mapping of name → ${link(node.additionalProperties) ?? typeOf(node.additionalProperties)}`;
          }
          return link(node) ?? 'mapping';
        }
        case 'string':
          return (node.minLength ?? 0) > 0 ? 'non-empty string' : 'string';
        default:
          return type;
      }
    });
    return words.join(' or ');
  };

  const out: string[] = [MARKER, ''];
  for (const section of sections) {
    const title = section.heading === 'Top level' ? section.heading : code(section.heading);
    out.push(`## ${title}`, '');
    if (section.node.description && section.heading !== 'Top level') out.push(prose(section.node.description), '');
    if (section.note) out.push(section.note, '');
    out.push('| Field | Type | Default | Meaning |', '|---|---|---|---|');
    const required = new Set(section.node.required ?? []);
    for (const [key, child] of Object.entries(section.node.properties ?? {})) {
      const target = deref(child, root);
      const fallback = child.default ?? target.default;
      const dflt = required.has(key) ? 'required' : fallback === undefined ? '—' : `\`${inline(fallback)}\``;
      const meaning = child.description ?? target.description ?? '';
      out.push(`| ${code(key)} | ${cell(typeOf(child))} | ${cell(dflt)} | ${cell(prose(meaning))} |`);
    }
    out.push('');
  }

  out.push('## Value kinds', '', 'Kinds of values used by the fields above.', '');
  out.push('| Kind | Meaning | Pattern |', '|---|---|---|');
  for (const [name, label] of Object.entries(KIND_LABELS)) {
    const node = root.definitions?.[name];
    if (!node) continue;
    const pattern = node.pattern ? `\`${node.pattern}\`` : '—';
    out.push(`| <a id="${anchorOf(label)}"></a>${label} | ${cell(prose(node.description ?? ''))} | ${cell(pattern)} |`);
  }
  out.push('');
  return out.join('\n');
}

const DEFAULT_INTRO = `# fleet.yaml\n\n(Write the introduction here.)\n`;

/** The whole document: the hand-written part of `current` (above the marker), then the reference. */
export function renderDocument(current: string | undefined, root: SchemaNode = manifestSchema()): string {
  // Without a marker yet, the whole current file is the hand-written part.
  const at = current?.indexOf(MARKER) ?? -1;
  const intro =
    current === undefined ? `${DEFAULT_INTRO}\n` : at === -1 ? `${current.trimEnd()}\n\n` : current.slice(0, at);
  return `${intro}${renderReference(root)}`;
}

async function main(): Promise<void> {
  const current = await readFile(DOC_URL, 'utf8').catch(() => undefined);
  await writeFile(DOC_URL, renderDocument(current));
  console.log(`wrote ${fileURLToPath(DOC_URL)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
