import net from 'node:net';
import { z } from 'zod';

const hostnamePattern = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export const hostname = z.string().refine((h) => net.isIP(h) !== 0 || hostnamePattern.test(h), 'not a valid host name or IP address');

const addressPattern = /^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export const emailAddress = z.string().trim().toLowerCase().refine((a) => a.length <= 254 && addressPattern.test(a), 'not a valid e-mail address');

export const domainName = z.string().trim().toLowerCase().refine((d) => hostnamePattern.test(d) && d.includes('.') && net.isIP(d) === 0, 'not a valid domain name');
