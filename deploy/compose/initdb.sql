-- One database per service: no service reads another's tables.
CREATE DATABASE registry;
CREATE DATABASE voucher;
CREATE DATABASE matching;
