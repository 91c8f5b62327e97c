import type { LicenseState } from '../runtime/license/license.ts';
import { builder } from './builder.ts';

export const License = builder.objectRef<LicenseState>('License');
