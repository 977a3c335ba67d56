"""The one schema of the events both sides share (issue 11.1).

`values`: the value objects events carry and the enums of their states; `payloads`: one
typed payload per event; `catalog`: names, stored topics and personal fields, derived from
the payloads. The write side raises and folds these payloads, the read side folds and
publishes them, the cipher seals what they mark personal.
"""
