// The guide's tests under Jest (ESM): NODE_OPTIONS=--experimental-vm-modules npx jest
// with { "transform": {}, "testEnvironment": "node" } (docs/testing.md).
import { test } from '@jest/globals';
import { guideSuite } from './guide.suite.mjs';

guideSuite(test);
