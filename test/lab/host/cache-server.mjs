// The lab binary cache's HTTP server: serves a Nix binary cache directory (nix-cache-info, *.narinfo,
// nar/*) as static files, as any static server in front of a cache does (GET, HEAD, 404 for what is
// missing), and takes PUT uploads the way Nix's http:// binary cache store sends them (`nix copy
// --to http://…`), so that a push crosses the lab network like one to a real cache. Runs in the
// cache's own network namespace: node cache-server.mjs DIR ADDRESS PORT. One JSON line per request
// on stdout (the lab reads them back: which host fetched what).
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, normalize } from 'node:path';

const [root, address, port] = process.argv.slice(2);
if (!root || !address || !port) {
  console.error('usage: cache-server.mjs DIR ADDRESS PORT');
  process.exit(2);
}

const TYPES = { '.narinfo': 'text/x-nix-narinfo', '.nar': 'application/x-nix-nar', 'nix-cache-info': 'text/x-nix-cache-info' };
const contentType = (path) => Object.entries(TYPES).find(([end]) => path.endsWith(end))?.[1] ?? 'application/octet-stream';

function log(req, status, bytes) {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), remote: req.socket.remoteAddress, method: req.method, path: req.url, status, bytes }) + '\n');
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://cache');
  const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
  if (rel === '' || rel.startsWith('..') || rel.includes('\0')) {
    res.writeHead(400).end();
    log(req, 400, 0);
    return;
  }
  const file = join(root, rel);
  if (req.method === 'PUT') {
    // Written beside, then renamed: a reader never sees half a file.
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.put-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const out = createWriteStream(tmp);
    let bytes = 0;
    req.on('data', (d) => (bytes += d.length));
    req.pipe(out);
    out.on('finish', () => {
      renameSync(tmp, file);
      res.writeHead(200).end();
      log(req, 200, bytes);
    });
    out.on('error', () => {
      rmSync(tmp, { force: true });
      res.writeHead(500).end();
      log(req, 500, bytes);
    });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
    log(req, 405, 0);
    return;
  }
  let size;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    res.writeHead(404).end();
    log(req, 404, 0);
    return;
  }
  res.writeHead(200, { 'content-type': contentType(rel), 'content-length': size });
  if (req.method === 'HEAD') {
    res.end();
    log(req, 200, 0);
    return;
  }
  createReadStream(file).pipe(res);
  res.on('finish', () => log(req, 200, size));
});

server.listen(Number(port), address, () => process.stdout.write(JSON.stringify({ listening: `${address}:${port}` }) + '\n'));
