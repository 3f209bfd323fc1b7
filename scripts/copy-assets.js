// Finishes dist/ after tsc: copies the Java launcher that binds DynamoDB Local to loopback, and makes the CLI
// executable (tsc keeps its shebang but not a mode; `npx shardflow` in this repository runs the file itself).
const { chmodSync, copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
mkdirSync(join(root, 'dist', 'local'), { recursive: true });
copyFileSync(join(root, 'src', 'local', 'LoopbackDynamoDBLocal.java'), join(root, 'dist', 'local', 'LoopbackDynamoDBLocal.java'));
chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
