import { erasedText } from '../src/erase-objects';
import type { Person } from '../src/person';
import { ERASED, redacted, uuidsIn, withoutRows } from '../src/redact';

const FRIDA = '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d';
const person: Person = { reference: FRIDA, holdings: [{ client: 'BANK', portfolios: ['90755e32-7438-4354-ad37-ad900e297844'], accounts: ['12345678'] }], names: ['Frida', 'Müller'] };
const clients = `record_id,first_name,last_name,client_reference,tax_free_allowance\n1,Frida,Müller,${FRIDA.toUpperCase()},801\n2,Fritz,Maier,f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7,0\n`;

describe('erasing a person from settled objects', () => {
  it('drops the lines holding one of the values as a field, quoted or not, whatever the case', () => {
    expect(withoutRows(clients, new Set([FRIDA]))).toBe('record_id,first_name,last_name,client_reference,tax_free_allowance\n2,Fritz,Maier,f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7,0\n');
    expect(withoutRows('1,"12345678",1.00\r\n2,123456789,2.00', new Set(['12345678']))).toBe('2,123456789,2.00');
  });

  it('redacts whole words only', () => {
    expect(redacted('unknown column "Frida" near Fridays, MÜLLER', ['Frida', 'Müller'])).toBe(`unknown column "${ERASED}" near Fridays, ${ERASED}`);
    expect(redacted('nothing', [])).toBe('nothing');
  });

  it('keeps another bank client’s account of the same number, and others’ names in archived files', () => {
    const accounts = 'record_id,accout_number\n1,12345678\n';
    expect(erasedText('archive', accounts, person, 'OTHER_BANK')).toBe(accounts);
    expect(erasedText('archive', accounts, person, 'BANK')).toBe('record_id,accout_number\n');
    const namesake = 'record_id,first_name,last_name,client_reference\n3,Frida,Müller,0a40659b-8b9f-4fc4-814b-5a7b5a23b64d\n';
    expect(erasedText('archive', namesake, person, 'BANK')).toBe(namesake);
    // A report or a quarantined file next to her rows: her names go too.
    expect(erasedText('errors', '{"reason":"unknown column Frida"}', person, 'BANK')).toBe(`{"reason":"unknown column ${ERASED}"}`);
    expect(erasedText('quarantine', `1,Frida,Müller,${FRIDA},801\n2,Frida\n`, person, 'BANK')).toBe(`2,${ERASED}\n`);
  });

  it('finds UUID-shaped tokens in lower case', () => {
    expect([...uuidsIn(clients)]).toEqual([FRIDA, 'f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7']);
  });
});
