SELECT
  "t9"."product_id",
  "t9"."subscriptions",
  "t9"."active",
  "t9"."cancelled",
  "t9"."mean_shipped",
  "t9"."median_shipped",
  "t9"."cancelled_mean_shipped",
  CAST(FLOOR(
    (
      (
        CAST("t9"."cancelled" AS DOUBLE) / NULLIF("t9"."subscriptions", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "cancel_share"
FROM (
  SELECT
    "t8"."product_id",
    COUNT("t8"."subscription_id") AS "subscriptions",
    SUM(IFF("t8"."is_cancelled" = 0, 1, 0)) AS "active",
    SUM("t8"."is_cancelled") AS "cancelled",
    CAST(FLOOR((
      AVG("t8"."shipped") * 100
    ) + 0.5) AS BIGINT) / 100 AS "mean_shipped",
    MEDIAN("t8"."shipped") AS "median_shipped",
    CAST(FLOOR((
      AVG(IFF("t8"."is_cancelled" = 1, "t8"."shipped", NULL)) * 100
    ) + 0.5) AS BIGINT) / 100 AS "cancelled_mean_shipped"
  FROM (
    SELECT
      "t7"."subscription_id",
      "t7"."customer_id",
      "t7"."product_id",
      "t7"."quantity",
      "t7"."unit_price",
      "t7"."cycle_unit",
      "t7"."cycle_interval",
      "t7"."status",
      "t7"."started_at",
      "t7"."cancelled_at",
      "t7"."cancel_reason",
      "t7"."next_delivery_on",
      "t7"."updated_at",
      "t7"."start_date",
      "t7"."cancel_date",
      "t7"."is_cancelled",
      "t7"."subscription_id_right",
      COALESCE("t7"."shipped", 0) AS "shipped"
    FROM (
      SELECT
        "t6"."subscription_id",
        "t6"."customer_id",
        "t6"."product_id",
        "t6"."quantity",
        "t6"."unit_price",
        "t6"."cycle_unit",
        "t6"."cycle_interval",
        "t6"."status",
        "t6"."started_at",
        "t6"."cancelled_at",
        "t6"."cancel_reason",
        "t6"."next_delivery_on",
        "t6"."updated_at",
        "t6"."start_date",
        "t6"."cancel_date",
        "t6"."is_cancelled",
        "t5"."subscription_id" AS "subscription_id_right",
        "t5"."shipped"
      FROM (
        SELECT
          "t0"."subscription_id",
          "t0"."customer_id",
          "t0"."product_id",
          "t0"."quantity",
          "t0"."unit_price",
          "t0"."cycle_unit",
          "t0"."cycle_interval",
          "t0"."status",
          "t0"."started_at",
          "t0"."cancelled_at",
          "t0"."cancel_reason",
          "t0"."next_delivery_on",
          "t0"."updated_at",
          TO_DATE(DATEADD(HOUR, '9', "t0"."started_at")) AS "start_date",
          TO_DATE(DATEADD(HOUR, '9', "t0"."cancelled_at")) AS "cancel_date",
          IFF(
            (
              TO_DATE(DATEADD(HOUR, '9', "t0"."cancelled_at")) IS NOT NULL
            )
            AND (
              TO_DATE(DATEADD(HOUR, '9', "t0"."cancelled_at")) <= DATE_FROM_PARTS(2026, 10, 31)
            ),
            1,
            0
          ) AS "is_cancelled"
        FROM "subscriptions" AS "t0"
        WHERE
          TO_DATE(DATEADD(HOUR, '9', "t0"."started_at")) <= DATE_FROM_PARTS(2026, 10, 31)
      ) AS "t6"
      LEFT OUTER JOIN (
        SELECT
          "t2"."subscription_id",
          COUNT("t2"."delivery_number") AS "shipped"
        FROM (
          SELECT
            *
          FROM "subscription_deliveries" AS "t1"
          WHERE
            "t1"."status" = 'shipped'
            AND "t1"."scheduled_on" <= DATE_FROM_PARTS(2026, 10, 31)
        ) AS "t2"
        GROUP BY
          1
      ) AS "t5"
        ON "t6"."subscription_id" = "t5"."subscription_id"
    ) AS "t7"
  ) AS "t8"
  GROUP BY
    1
) AS "t9"
ORDER BY
  "t9"."subscriptions" DESC NULLS LAST,
  "t9"."product_id" ASC
