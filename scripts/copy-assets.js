// Copies what tsc does not emit into dist/: the Java launcher that binds DynamoDB Local to loopback.
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
mkdirSync(join(root, 'dist', 'local'), { recursive: true });
copyFileSync(join(root, 'src', 'local', 'LoopbackDynamoDBLocal.java'), join(root, 'dist', 'local', 'LoopbackDynamoDBLocal.java'));
