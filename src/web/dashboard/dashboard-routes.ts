import type { FastifyInstance } from 'fastify';
import type { Tally } from '../../context.ts';

export function registerDashboard(_server: FastifyInstance, _tally: Tally): void {}
