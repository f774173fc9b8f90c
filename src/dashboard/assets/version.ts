// A short hash of the assets, in their URLs, so browsers may cache them for long and still see a change.
import { createHash } from 'node:crypto';
import { CLIENT_JS } from './client.js';
import { STYLES } from './styles.js';

export const ASSET_VERSION = createHash('sha256').update(CLIENT_JS).update(STYLES).digest('hex').slice(0, 10);
