#!/usr/bin/env node
// Compiles every contract under src/ through solc's standard-JSON interface (the WASM build from npm,
// so no compiler binary is ever downloaded) and writes one artifact per deployable contract into
// sandbox/artifacts/, which the Python package loads with importlib.resources.
//
//   node build.js           write the artifacts
//   node build.js --check   rebuild in memory and exit 1 if any committed artifact differs
//
// The EVM version is pinned to prague: solc 0.8.37 defaults to osaka, which py-evm cannot run.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const solc = require('solc');

const ROOT = __dirname;
const SRC = path.join(ROOT, 'src');
const OUT = path.join(ROOT, '..', 'sandbox', 'artifacts');
const NODE_MODULES = path.join(ROOT, 'node_modules');

const SETTINGS = {
  optimizer: { enabled: true, runs: 10000 },
  evmVersion: 'prague',
  viaIR: false,
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'devdoc', 'userdoc'] },
  },
};

// Every .sol file under `dir`, sorted by its path relative to ROOT in plain code-unit order (the
// order Python's sorted() gives, so tests can recompute the sources hash).
function listSources(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.sol')) out.push(full);
    }
  };
  walk(dir);
  const rel = (f) => path.relative(ROOT, f).split(path.sep).join('/');
  return out.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0));
}

function findImports(importPath) {
  const candidates = [path.join(NODE_MODULES, importPath), path.join(ROOT, importPath)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `import not found: ${importPath}` };
}

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

// One hash over our own sources (path + content, in path order): the Python side recomputes it to
// notice artifacts that are stale against contracts/src without needing Node.
function sourcesHash(files) {
  const h = crypto.createHash('sha256');
  for (const file of files) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    h.update(rel + '\0' + fs.readFileSync(file, 'utf8') + '\0');
  }
  return h.digest('hex');
}

function main() {
  const check = process.argv.includes('--check');
  const files = listSources(SRC);
  const sources = {};
  for (const file of files) {
    const key = path.relative(ROOT, file).split(path.sep).join('/');
    sources[key] = { content: fs.readFileSync(file, 'utf8') };
  }
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) {
    if (e.severity !== 'error' && !/SPDX|Contract code size/.test(e.message)) {
      process.stderr.write(e.formattedMessage + '\n');
    }
  }
  if (errors.length) {
    for (const e of errors) process.stderr.write(e.formattedMessage + '\n');
    process.exit(1);
  }
  const ozVersion = JSON.parse(fs.readFileSync(path.join(NODE_MODULES, '@openzeppelin/contracts/package.json'), 'utf8')).version;
  const common = {
    compiler: { name: 'solc', version: solc.version() },
    openzeppelin: ozVersion,
    settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion, viaIR: SETTINGS.viaIR },
    sourcesHash: sourcesHash(files),
  };
  const artifacts = {};
  for (const [source, contracts] of Object.entries(output.contracts)) {
    if (!source.startsWith('src/')) continue;
    for (const [name, c] of Object.entries(contracts)) {
      // Interfaces and abstract contracts have no bytecode; keep them too (their ABI decodes errors).
      artifacts[name] = {
        contractName: name,
        sourceName: source,
        abi: c.abi,
        bytecode: c.evm.bytecode.object ? '0x' + c.evm.bytecode.object : '0x',
        deployedBytecode: c.evm.deployedBytecode.object ? '0x' + c.evm.deployedBytecode.object : '0x',
        devdoc: c.devdoc,
        userdoc: c.userdoc,
        ...common,
      };
    }
  }
  const rendered = {};
  for (const name of Object.keys(artifacts).sort()) rendered[`${name}.json`] = JSON.stringify(artifacts[name], null, 1) + '\n';

  if (check) {
    const existing = fs.existsSync(OUT) ? fs.readdirSync(OUT).filter((f) => f.endsWith('.json')) : [];
    const stale = [];
    for (const [file, text] of Object.entries(rendered)) {
      const p = path.join(OUT, file);
      if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text) stale.push(file);
    }
    for (const file of existing) if (!(file in rendered)) stale.push(`${file} (no longer built)`);
    if (stale.length) {
      process.stderr.write(`artifacts differ from a fresh build: ${stale.join(', ')}\nrun: make contracts\n`);
      process.exit(1);
    }
    process.stdout.write(`artifacts match a fresh build (${Object.keys(rendered).length} contracts)\n`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  for (const file of fs.readdirSync(OUT)) if (file.endsWith('.json') && !(file in rendered)) fs.unlinkSync(path.join(OUT, file));
  for (const [file, text] of Object.entries(rendered)) fs.writeFileSync(path.join(OUT, file), text);
  process.stdout.write(`wrote ${Object.keys(rendered).length} artifacts to ${path.relative(process.cwd(), OUT)}\n`);
}

main();
