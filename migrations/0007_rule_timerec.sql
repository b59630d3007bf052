-- A rule's time recurrence in OpenSIPS drouting/cfgutils syntax (issue 18): the text as given,
-- checked by the API and the import, compiled with the snapshot. NULL: none (always valid). The
-- weekly time_window stays; a rule with both is valid when both match.
ALTER TABLE rule ADD COLUMN timerec text;
