WITH `t3` AS (
  SELECT
    `t1`.`order_id`,
    `t1`.`customer_id`,
    `t1`.`ordered_at`,
    `t1`.`status`,
    `t1`.`channel`,
    `t1`.`subtotal`,
    `t1`.`discount`,
    `t1`.`shipping_fee`,
    `t1`.`points_used`,
    `t1`.`total`,
    `t1`.`points_earned`,
    `t1`.`coupon_code`,
    `t1`.`subscription_id`,
    `t1`.`payment_method`,
    `t1`.`shipping_prefecture`,
    `t1`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t1`
  WHERE
    `t1`.`status` = 'completed'
    AND `t1`.`customer_id` IS NOT NULL
    AND `t1`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
), `t7` AS (
  SELECT
    `t6`.`customer_id`,
    `t6`.`first_date`,
    DATE_TRUNC(`t6`.`first_date`, MONTH) AS `cohort_month`,
    (
      (
        EXTRACT(year FROM `t6`.`first_date`) * 12
      ) + EXTRACT(month FROM `t6`.`first_date`)
    ) - 1 AS `cohort_idx`
  FROM (
    SELECT
      `t4`.`customer_id`,
      MIN(`t4`.`order_date`) AS `first_date`
    FROM `t3` AS `t4`
    GROUP BY
      1
  ) AS `t6`
)
SELECT
  `t21`.`cohort_month`,
  `t21`.`months_since`,
  `t21`.`cohort_size`,
  `t21`.`revenue`,
  `t21`.`cumulative_revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t21`.`cumulative_revenue` AS FLOAT64), `t21`.`cohort_size`) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `ltv`
FROM (
  SELECT
    `t20`.`cohort_month`,
    `t20`.`months_since`,
    `t20`.`cohort_size`,
    `t20`.`customers`,
    `t20`.`orders`,
    `t20`.`revenue`,
    `t20`.`retention_rate`,
    SUM(`t20`.`revenue`) OVER (
      PARTITION BY `t20`.`cohort_month`
      ORDER BY `t20`.`months_since` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `cumulative_revenue`
  FROM (
    SELECT
      `t19`.`cohort_month`,
      `t19`.`months_since`,
      `t19`.`cohort_size`,
      `t19`.`customers`,
      `t19`.`orders`,
      `t19`.`revenue`,
      ieee_divide(
        CAST(FLOOR(
          (
            ieee_divide(CAST(`t19`.`customers` AS FLOAT64), NULLIF(`t19`.`cohort_size`, 0)) * 10000
          ) + 0.5
        ) AS INT64),
        10000
      ) AS `retention_rate`
    FROM (
      SELECT
        `t15`.`cohort_month`,
        `t15`.`months_since`,
        `t15`.`cohort_size`,
        COALESCE(`t18`.`customers`, 0) AS `customers`,
        COALESCE(`t18`.`orders`, 0) AS `orders`,
        COALESCE(`t18`.`revenue`, 0) AS `revenue`
      FROM (
        SELECT
          *
        FROM (
          SELECT
            `t11`.`cohort_month`,
            `t11`.`cohort_idx`,
            `t11`.`cohort_size`,
            `t2`.`months_since`
          FROM (
            SELECT
              `t8`.`cohort_month`,
              `t8`.`cohort_idx`,
              COUNT(`t8`.`customer_id`) AS `cohort_size`
            FROM `t7` AS `t8`
            GROUP BY
              1,
              2
          ) AS `t11`
          CROSS JOIN `memtable_1` AS `t2`
        ) AS `t13`
        WHERE
          (
            `t13`.`cohort_idx` + `t13`.`months_since`
          ) <= (
            (
              (
                EXTRACT(year FROM DATE(2026, 10, 31)) * 12
              ) + EXTRACT(month FROM DATE(2026, 10, 31))
            ) - 1
          )
      ) AS `t15`
      LEFT OUTER JOIN (
        SELECT
          `t16`.`cohort_month`,
          `t16`.`months_since`,
          COUNT(DISTINCT `t16`.`customer_id`) AS `customers`,
          COUNT(*) AS `orders`,
          SUM(`t16`.`total`) AS `revenue`
        FROM (
          SELECT
            `t12`.`order_id`,
            `t12`.`customer_id`,
            `t12`.`ordered_at`,
            `t12`.`status`,
            `t12`.`channel`,
            `t12`.`subtotal`,
            `t12`.`discount`,
            `t12`.`shipping_fee`,
            `t12`.`points_used`,
            `t12`.`total`,
            `t12`.`points_earned`,
            `t12`.`coupon_code`,
            `t12`.`subscription_id`,
            `t12`.`payment_method`,
            `t12`.`shipping_prefecture`,
            `t12`.`is_gift`,
            `t12`.`order_date`,
            `t12`.`first_date`,
            `t12`.`cohort_month`,
            `t12`.`cohort_idx`,
            (
              (
                (
                  EXTRACT(year FROM `t12`.`order_date`) * 12
                ) + EXTRACT(month FROM `t12`.`order_date`)
              ) - 1
            ) - `t12`.`cohort_idx` AS `months_since`
          FROM (
            SELECT
              `t5`.`order_id`,
              `t5`.`customer_id`,
              `t5`.`ordered_at`,
              `t5`.`status`,
              `t5`.`channel`,
              `t5`.`subtotal`,
              `t5`.`discount`,
              `t5`.`shipping_fee`,
              `t5`.`points_used`,
              `t5`.`total`,
              `t5`.`points_earned`,
              `t5`.`coupon_code`,
              `t5`.`subscription_id`,
              `t5`.`payment_method`,
              `t5`.`shipping_prefecture`,
              `t5`.`is_gift`,
              `t5`.`order_date`,
              `t9`.`first_date`,
              `t9`.`cohort_month`,
              `t9`.`cohort_idx`
            FROM `t3` AS `t5`
            INNER JOIN `t7` AS `t9`
              ON `t5`.`customer_id` = `t9`.`customer_id`
          ) AS `t12`
          WHERE
            (
              (
                (
                  (
                    EXTRACT(year FROM `t12`.`order_date`) * 12
                  ) + EXTRACT(month FROM `t12`.`order_date`)
                ) - 1
              ) - `t12`.`cohort_idx`
            ) <= 24
        ) AS `t16`
        GROUP BY
          1,
          2
      ) AS `t18`
        ON `t15`.`cohort_month` = `t18`.`cohort_month`
        AND `t15`.`months_since` = `t18`.`months_since`
    ) AS `t19`
  ) AS `t20`
) AS `t21`
ORDER BY
  `t21`.`cohort_month` ASC NULLS LAST,
  `t21`.`months_since` ASC NULLS LAST
