WITH "t3" AS (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."status",
    "t1"."channel",
    "t1"."subtotal",
    "t1"."discount",
    "t1"."shipping_fee",
    "t1"."points_used",
    "t1"."total",
    "t1"."points_earned",
    "t1"."coupon_code",
    "t1"."subscription_id",
    "t1"."payment_method",
    "t1"."shipping_prefecture",
    "t1"."is_gift",
    TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at")) AS "order_date"
  FROM "orders" AS "t1"
  WHERE
    "t1"."status" = 'completed'
    AND "t1"."customer_id" IS NOT NULL
    AND "t1"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
), "t7" AS (
  SELECT
    "t6"."customer_id",
    "t6"."first_date",
    DATE_TRUNC('MONTH', "t6"."first_date") AS "cohort_month",
    (
      (
        DATE_PART(year, "t6"."first_date") * 12
      ) + DATE_PART(month, "t6"."first_date")
    ) - 1 AS "cohort_idx"
  FROM (
    SELECT
      "t4"."customer_id",
      MIN("t4"."order_date") AS "first_date"
    FROM "t3" AS "t4"
    GROUP BY
      1
  ) AS "t6"
), "t12" AS (
  SELECT
    "t11"."order_id",
    "t11"."customer_id",
    "t11"."ordered_at",
    "t11"."status",
    "t11"."channel",
    "t11"."subtotal",
    "t11"."discount",
    "t11"."shipping_fee",
    "t11"."points_used",
    "t11"."total",
    "t11"."points_earned",
    "t11"."coupon_code",
    "t11"."subscription_id",
    "t11"."payment_method",
    "t11"."shipping_prefecture",
    "t11"."is_gift",
    "t11"."order_date",
    "t11"."first_date",
    "t11"."cohort_month",
    "t11"."cohort_idx",
    (
      (
        (
          DATE_PART(year, "t11"."order_date") * 12
        ) + DATE_PART(month, "t11"."order_date")
      ) - 1
    ) - "t11"."cohort_idx" AS "months_since"
  FROM (
    SELECT
      "t5"."order_id",
      "t5"."customer_id",
      "t5"."ordered_at",
      "t5"."status",
      "t5"."channel",
      "t5"."subtotal",
      "t5"."discount",
      "t5"."shipping_fee",
      "t5"."points_used",
      "t5"."total",
      "t5"."points_earned",
      "t5"."coupon_code",
      "t5"."subscription_id",
      "t5"."payment_method",
      "t5"."shipping_prefecture",
      "t5"."is_gift",
      "t5"."order_date",
      "t10"."first_date",
      "t10"."cohort_month",
      "t10"."cohort_idx"
    FROM "t3" AS "t5"
    INNER JOIN "t7" AS "t10"
      ON "t5"."customer_id" = "t10"."customer_id"
  ) AS "t11"
)
SELECT
  "t26"."channel",
  "t26"."months_since",
  "t26"."cohort_size",
  "t26"."customers",
  "t26"."revenue",
  CAST(FLOOR(
    (
      (
        CAST("t26"."customers" AS DOUBLE) / NULLIF("t26"."cohort_size", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "retention_rate"
FROM (
  SELECT
    "t25"."channel",
    "t25"."months_since",
    "t25"."cohort_size",
    COALESCE("t23"."customers", 0) AS "customers",
    COALESCE("t23"."revenue", 0) AS "revenue"
  FROM (
    SELECT
      "t22"."channel",
      "t22"."months_since",
      COUNT("t22"."customer_id") AS "cohort_size"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          "t9"."customer_id",
          "t9"."first_date",
          "t9"."cohort_month",
          "t9"."cohort_idx",
          "t18"."channel",
          "t2"."months_since"
        FROM "t7" AS "t9"
        INNER JOIN (
          SELECT
            "t16"."customer_id",
            COALESCE("t16"."channel", '(不明)') AS "channel"
          FROM (
            SELECT
              "t15"."order_id",
              "t15"."customer_id",
              "t15"."ordered_at",
              "t15"."status",
              "t15"."channel",
              "t15"."subtotal",
              "t15"."discount",
              "t15"."shipping_fee",
              "t15"."points_used",
              "t15"."total",
              "t15"."points_earned",
              "t15"."coupon_code",
              "t15"."subscription_id",
              "t15"."payment_method",
              "t15"."shipping_prefecture",
              "t15"."is_gift",
              "t15"."order_date",
              (
                ROW_NUMBER() OVER (
                  PARTITION BY "t15"."customer_id"
                  ORDER BY "t15"."ordered_at" ASC, "t15"."order_id" ASC
                ) - 1
              ) + 1 AS "order_no"
            FROM (
              SELECT
                "t13".*
                EXCLUDE ("cohort_idx", "cohort_month", "first_date", "months_since")
              FROM "t12" AS "t13"
            ) AS "t15"
          ) AS "t16"
          WHERE
            "t16"."order_no" = 1
        ) AS "t18"
          ON "t9"."customer_id" = "t18"."customer_id"
        CROSS JOIN "memtable_1" AS "t2"
      ) AS "t19"
      WHERE
        (
          "t19"."cohort_idx" + "t19"."months_since"
        ) <= (
          (
            (
              DATE_PART(year, DATE_FROM_PARTS(2026, 10, 31)) * 12
            ) + DATE_PART(month, DATE_FROM_PARTS(2026, 10, 31))
          ) - 1
        )
    ) AS "t22"
    GROUP BY
      1,
      2
  ) AS "t25"
  LEFT OUTER JOIN (
    SELECT
      "t20"."channel",
      "t20"."months_since",
      COUNT(DISTINCT "t20"."customer_id") AS "customers",
      SUM("t20"."total") AS "revenue"
    FROM (
      SELECT
        "t14"."order_id",
        "t14"."customer_id",
        "t14"."ordered_at",
        "t14"."status",
        "t14"."channel",
        "t14"."subtotal",
        "t14"."discount",
        "t14"."shipping_fee",
        "t14"."points_used",
        "t14"."total",
        "t14"."points_earned",
        "t14"."coupon_code",
        "t14"."subscription_id",
        "t14"."payment_method",
        "t14"."shipping_prefecture",
        "t14"."is_gift",
        "t14"."order_date",
        "t14"."first_date",
        "t14"."cohort_month",
        "t14"."cohort_idx",
        "t14"."months_since",
        "t18"."channel" AS "channel_right"
      FROM "t12" AS "t14"
      INNER JOIN (
        SELECT
          "t16"."customer_id",
          COALESCE("t16"."channel", '(不明)') AS "channel"
        FROM (
          SELECT
            "t15"."order_id",
            "t15"."customer_id",
            "t15"."ordered_at",
            "t15"."status",
            "t15"."channel",
            "t15"."subtotal",
            "t15"."discount",
            "t15"."shipping_fee",
            "t15"."points_used",
            "t15"."total",
            "t15"."points_earned",
            "t15"."coupon_code",
            "t15"."subscription_id",
            "t15"."payment_method",
            "t15"."shipping_prefecture",
            "t15"."is_gift",
            "t15"."order_date",
            (
              ROW_NUMBER() OVER (
                PARTITION BY "t15"."customer_id"
                ORDER BY "t15"."ordered_at" ASC, "t15"."order_id" ASC
              ) - 1
            ) + 1 AS "order_no"
          FROM (
            SELECT
              "t13".*
              EXCLUDE ("cohort_idx", "cohort_month", "first_date", "months_since")
            FROM "t12" AS "t13"
          ) AS "t15"
        ) AS "t16"
        WHERE
          "t16"."order_no" = 1
      ) AS "t18"
        ON "t14"."customer_id" = "t18"."customer_id"
    ) AS "t20"
    GROUP BY
      1,
      2
  ) AS "t23"
    ON "t25"."channel" = "t23"."channel" AND "t25"."months_since" = "t23"."months_since"
) AS "t26"
ORDER BY
  "t26"."channel" ASC,
  "t26"."months_since" ASC
