SELECT
  *
FROM (
  SELECT
    `t6`.`f_score`,
    `t6`.`customers`,
    `t6`.`revenue`,
    `t6`.`min_value`,
    `t6`.`max_value`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t6`.`customers` AS FLOAT64),
            NULLIF(
              SUM(`t6`.`customers`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share`
  FROM (
    SELECT
      `t5`.`f_score`,
      COUNT(`t5`.`customer_id`) AS `customers`,
      SUM(`t5`.`monetary`) AS `revenue`,
      MIN(`t5`.`frequency`) AS `min_value`,
      MAX(`t5`.`frequency`) AS `max_value`
    FROM (
      SELECT
        `t4`.`customer_id`,
        `t4`.`recency_days`,
        `t4`.`frequency`,
        `t4`.`monetary`,
        `t4`.`last_order`,
        `t4`.`r_score`,
        `t4`.`f_score`,
        `t4`.`m_score`,
        CONCAT(
          CONCAT(CAST(`t4`.`r_score` AS STRING), CAST(`t4`.`f_score` AS STRING)),
          CAST(`t4`.`m_score` AS STRING)
        ) AS `rfm_cell`
      FROM (
        SELECT
          `t3`.`customer_id`,
          `t3`.`last_order`,
          `t3`.`frequency`,
          `t3`.`monetary`,
          `t3`.`recency_days`,
          1 + IF(`t3`.`recency_days` <= 30, 1, 0) + IF(`t3`.`recency_days` <= 60, 1, 0) + IF(`t3`.`recency_days` <= 90, 1, 0) + IF(`t3`.`recency_days` <= 180, 1, 0) AS `r_score`,
          1 + IF(`t3`.`frequency` >= 2, 1, 0) + IF(`t3`.`frequency` >= 3, 1, 0) + IF(`t3`.`frequency` >= 5, 1, 0) + IF(`t3`.`frequency` >= 10, 1, 0) AS `f_score`,
          1 + IF(`t3`.`monetary` >= 10000, 1, 0) + IF(`t3`.`monetary` >= 30000, 1, 0) + IF(`t3`.`monetary` >= 50000, 1, 0) + IF(`t3`.`monetary` >= 100000, 1, 0) AS `m_score`
        FROM (
          SELECT
            `t2`.`customer_id`,
            `t2`.`last_order`,
            `t2`.`frequency`,
            `t2`.`monetary`,
            DATE_DIFF(DATE(2026, 10, 31), `t2`.`last_order`, DAY) AS `recency_days`
          FROM (
            SELECT
              `t1`.`customer_id`,
              MAX(`t1`.`order_date`) AS `last_order`,
              COUNT(*) AS `frequency`,
              SUM(`t1`.`total`) AS `monetary`
            FROM (
              SELECT
                `t0`.`order_id`,
                `t0`.`customer_id`,
                `t0`.`ordered_at`,
                `t0`.`status`,
                `t0`.`channel`,
                `t0`.`subtotal`,
                `t0`.`discount`,
                `t0`.`shipping_fee`,
                `t0`.`points_used`,
                `t0`.`total`,
                `t0`.`points_earned`,
                `t0`.`coupon_code`,
                `t0`.`subscription_id`,
                `t0`.`payment_method`,
                `t0`.`shipping_prefecture`,
                `t0`.`is_gift`,
                DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
              FROM `orders` AS `t0`
              WHERE
                `t0`.`status` = 'completed'
                AND `t0`.`customer_id` IS NOT NULL
                AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
            ) AS `t1`
            GROUP BY
              1
          ) AS `t2`
        ) AS `t3`
      ) AS `t4`
    ) AS `t5`
    GROUP BY
      1
  ) AS `t6`
) AS `t7`
ORDER BY
  `t7`.`f_score` ASC NULLS LAST
