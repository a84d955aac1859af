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
)
SELECT
  "t18"."cohort_month",
  "t18"."months_since",
  "t18"."cohort_size",
  "t18"."repeaters",
  CAST(FLOOR(
    (
      (
        CAST("t18"."repeaters" AS DOUBLE) / NULLIF("t18"."cohort_size", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "cumulative_repeat_rate"
FROM (
  SELECT
    "t17"."cohort_month",
    "t17"."months_since",
    COUNT("t17"."customer_id") AS "cohort_size",
    SUM(
      IFF(
        (
          "t17"."second_k" IS NOT NULL
        )
        AND (
          "t17"."second_k" <= "t17"."months_since"
        ),
        1,
        0
      )
    ) AS "repeaters"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t9"."customer_id",
        "t9"."first_date",
        "t9"."cohort_month",
        "t9"."cohort_idx",
        "t15"."customer_id" AS "customer_id_right",
        "t15"."second_k",
        "t2"."months_since"
      FROM "t7" AS "t9"
      LEFT OUTER JOIN (
        SELECT
          "t13"."customer_id",
          "t13"."months_since" AS "second_k"
        FROM (
          SELECT
            "t12"."order_id",
            "t12"."customer_id",
            "t12"."ordered_at",
            "t12"."status",
            "t12"."channel",
            "t12"."subtotal",
            "t12"."discount",
            "t12"."shipping_fee",
            "t12"."points_used",
            "t12"."total",
            "t12"."points_earned",
            "t12"."coupon_code",
            "t12"."subscription_id",
            "t12"."payment_method",
            "t12"."shipping_prefecture",
            "t12"."is_gift",
            "t12"."order_date",
            "t12"."first_date",
            "t12"."cohort_month",
            "t12"."cohort_idx",
            "t12"."months_since",
            (
              ROW_NUMBER() OVER (
                PARTITION BY "t12"."customer_id"
                ORDER BY "t12"."ordered_at" ASC, "t12"."order_id" ASC
              ) - 1
            ) + 1 AS "order_no"
          FROM (
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
          ) AS "t12"
        ) AS "t13"
        WHERE
          "t13"."order_no" = 2
      ) AS "t15"
        ON "t9"."customer_id" = "t15"."customer_id"
      CROSS JOIN "memtable_1" AS "t2"
    ) AS "t16"
    WHERE
      (
        "t16"."cohort_idx" + "t16"."months_since"
      ) <= (
        (
          (
            DATE_PART(year, DATE_FROM_PARTS(2026, 10, 31)) * 12
          ) + DATE_PART(month, DATE_FROM_PARTS(2026, 10, 31))
        ) - 1
      )
  ) AS "t17"
  GROUP BY
    1,
    2
) AS "t18"
ORDER BY
  "t18"."cohort_month" ASC,
  "t18"."months_since" ASC
