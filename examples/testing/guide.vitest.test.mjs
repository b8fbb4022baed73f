// The guide's tests under Vitest: npx vitest run guide.vitest.test.mjs
import { test } from 'vitest';
import { guideSuite } from './guide.suite.mjs';

guideSuite(test);
