SELECT
  "t8"."start_month",
  "t8"."months_since_start",
  "t8"."started",
  "t8"."surviving",
  CAST(FLOOR(
    (
      (
        CAST("t8"."surviving" AS DOUBLE) / NULLIF("t8"."started", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "survival_rate"
FROM (
  SELECT
    "t7"."start_month",
    "t7"."months_since_start",
    COUNT("t7"."subscription_id") AS "started",
    SUM(
      IFF(
        (
          "t7"."cancel_k" IS NULL
        )
        OR (
          "t7"."cancel_k" > "t7"."months_since_start"
        ),
        1,
        0
      )
    ) AS "surviving"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t5"."subscription_id",
        "t5"."customer_id",
        "t5"."product_id",
        "t5"."quantity",
        "t5"."unit_price",
        "t5"."cycle_unit",
        "t5"."cycle_interval",
        "t5"."status",
        "t5"."started_at",
        "t5"."cancelled_at",
        "t5"."cancel_reason",
        "t5"."next_delivery_on",
        "t5"."updated_at",
        "t5"."start_date",
        "t5"."cancel_date",
        "t5"."is_cancelled",
        "t5"."start_month",
        "t5"."start_idx",
        "t5"."cancel_k",
        "t2"."months_since_start"
      FROM (
        SELECT
          "t3"."subscription_id",
          "t3"."customer_id",
          "t3"."product_id",
          "t3"."quantity",
          "t3"."unit_price",
          "t3"."cycle_unit",
          "t3"."cycle_interval",
          "t3"."status",
          "t3"."started_at",
          "t3"."cancelled_at",
          "t3"."cancel_reason",
          "t3"."next_delivery_on",
          "t3"."updated_at",
          "t3"."start_date",
          "t3"."cancel_date",
          "t3"."is_cancelled",
          DATE_TRUNC('MONTH', "t3"."start_date") AS "start_month",
          (
            (
              DATE_PART(year, "t3"."start_date") * 12
            ) + DATE_PART(month, "t3"."start_date")
          ) - 1 AS "start_idx",
          IFF(
            "t3"."is_cancelled" = 1,
            (
              (
                (
                  DATE_PART(year, "t3"."cancel_date") * 12
                ) + DATE_PART(month, "t3"."cancel_date")
              ) - 1
            ) - (
              (
                (
                  DATE_PART(year, "t3"."start_date") * 12
                ) + DATE_PART(month, "t3"."start_date")
              ) - 1
            ),
            NULL
          ) AS "cancel_k"
        FROM (
          SELECT
            "t1"."subscription_id",
            "t1"."customer_id",
            "t1"."product_id",
            "t1"."quantity",
            "t1"."unit_price",
            "t1"."cycle_unit",
            "t1"."cycle_interval",
            "t1"."status",
            "t1"."started_at",
            "t1"."cancelled_at",
            "t1"."cancel_reason",
            "t1"."next_delivery_on",
            "t1"."updated_at",
            TO_DATE(DATEADD(HOUR, '9', "t1"."started_at")) AS "start_date",
            TO_DATE(DATEADD(HOUR, '9', "t1"."cancelled_at")) AS "cancel_date",
            IFF(
              (
                TO_DATE(DATEADD(HOUR, '9', "t1"."cancelled_at")) IS NOT NULL
              )
              AND (
                TO_DATE(DATEADD(HOUR, '9', "t1"."cancelled_at")) <= DATE_FROM_PARTS(2026, 10, 31)
              ),
              1,
              0
            ) AS "is_cancelled"
          FROM "subscriptions" AS "t1"
          WHERE
            TO_DATE(DATEADD(HOUR, '9', "t1"."started_at")) <= DATE_FROM_PARTS(2026, 10, 31)
        ) AS "t3"
      ) AS "t5"
      CROSS JOIN "memtable_1" AS "t2"
    ) AS "t6"
    WHERE
      (
        "t6"."start_idx" + "t6"."months_since_start"
      ) <= (
        (
          (
            DATE_PART(year, DATE_FROM_PARTS(2026, 10, 31)) * 12
          ) + DATE_PART(month, DATE_FROM_PARTS(2026, 10, 31))
        ) - 1
      )
  ) AS "t7"
  GROUP BY
    1,
    2
) AS "t8"
ORDER BY
  "t8"."start_month" ASC,
  "t8"."months_since_start" ASC
