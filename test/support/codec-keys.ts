import { parseCodecKeys } from '../../lib/codec';

/** The tests' payload key: the recorded histories in test/histories/ are encrypted with it. */
export const CODEC_KEYS = parseCodecKeys(`test1:${Buffer.alloc(32, 7).toString('base64')}`);
