SELECT * FROM ge_records
