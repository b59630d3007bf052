-- drouting's extra_prefix_chars, per partition: the characters besides the digits that rule
-- prefixes and dialled numbers may hold (issue 18). Default none: the alphabet stays the digits
-- (and rtroute's leading +). Rule prefixes may now hold those characters; which ones a rule may
-- use depends on its partition, so the import and the API check that (validate-data.ts) and the
-- snapshot discards a rule whose prefix falls outside its partition's alphabet. Only characters a
-- SIP URI user part carries unescaped (letters, -_.!~*'()&=+$,?/ and #).
ALTER TABLE partition ADD COLUMN extra_prefix_chars text NOT NULL DEFAULT ''
  CHECK (extra_prefix_chars ~ '^[A-Za-z_.!~*''()&=+$,?/#-]{0,32}$');
ALTER TABLE rule DROP CONSTRAINT rule_prefix_check;
ALTER TABLE rule ADD CONSTRAINT rule_prefix_check CHECK (prefix ~ '^[A-Za-z0-9_.!~*''()&=+$,?/#-]{0,32}$');
