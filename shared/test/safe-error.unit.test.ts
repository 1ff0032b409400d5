import { maskValues, safeError } from '../src/safe-error';

describe('errors as they may be logged', () => {
  it('keeps name, SQLSTATE and message, masking quoted and keyed values, and drops every other field', () => {
    const error = Object.assign(new Error('invalid input syntax for type numeric: "Frida"'), {
      name: 'error',
      code: '22P02',
      detail: 'Key (account_number)=(12345678) already exists.',
      where: 'COPY clients, line 2',
    });
    expect(safeError(error)).toEqual({ name: 'error', code: '22P02', message: 'invalid input syntax for type numeric: (a value of 5 characters)' });
    expect(maskValues('Key (client, account_number)=(BANK, 12345678) already exists.')).toBe('Key (client, account_number)=(…) already exists.');
    expect(safeError('thrown "Müller"')).toEqual({ name: 'Error', message: 'thrown (a value of 6 characters)' });
  });
});
