// ssh/: ssh argv, options and remote-command quoting (pure; nothing here spawns).
export * from './quote.js';
export * from './argv.js';
export * from './known-hosts.js';
export * from './escalation.js';
export * from './jump.js';
