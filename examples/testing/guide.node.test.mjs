// The guide's tests under node:test: node --test examples/testing/guide.node.test.mjs
import { test } from 'node:test';
import { guideSuite } from './guide.suite.mjs';

guideSuite(test);
