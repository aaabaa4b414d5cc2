from django.db import models


class World(models.Model):
    # Lower case: PostgreSQL folds the unquoted `randomNumber` of the dataset's CREATE TABLE to
    # `randomnumber` and Django quotes column names; SQLite matches either case.
    random_number = models.IntegerField(db_column="randomnumber")

    class Meta:
        managed = False
        db_table = "world"


class Fortune(models.Model):
    message = models.TextField()

    class Meta:
        managed = False
        db_table = "fortune"
